// When a delivery is retried, and after how long. Pure, so that the rules are unit-tested.

/** The longest wait between two attempts, however many came before. */
export const MAX_RETRY_DELAY_MS = 5 * 60_000;
/** One attempt may take this long before it counts as a network failure. */
export const ATTEMPT_TIMEOUT_MS = 10_000;

export type Verdict = 'delivered' | 'retry' | 'failed';

/**
 * 2xx: delivered. 408, 429 and 5xx may pass on a later attempt; any other answer (4xx, and 3xx,
 * since redirects are not followed: they would carry the signature elsewhere) will not.
 */
export function verdictOf(status: number): Verdict {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'failed';
}

/** The wait after the `attempts`-th failed attempt: base · 2^(attempts-1), capped. */
export function retryDelayMs(attempts: number, baseSeconds: number): number {
  const exponent = Math.max(0, attempts - 1);
  return Math.min(baseSeconds * 1000 * 2 ** exponent, MAX_RETRY_DELAY_MS);
}
