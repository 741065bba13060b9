/** Runs `each` on every element of `all`, in order, with at most `limit` running at once. */
export async function inParallel<T>(
  all: readonly T[],
  limit: number,
  each: (t: T) => Promise<unknown>,
): Promise<void> {
  const queue = [...all];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await each(next);
    }),
  );
}

/** 0, 1, …, n - 1. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
