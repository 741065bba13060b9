// Reading values whose shape nobody promised (thrown errors, objects of any kind) without
// trusting it: each read checks what it finds.

/** What a thrown value says: an Error's message, anything else as text. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** `value[key]` when `value` is an object that has it; undefined otherwise. */
export const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null && key in value ? Reflect.get(value, key) : undefined;

/** `value[key]` when it is a string. */
export function stringField(value: unknown, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === 'string' ? found : undefined;
}

/** `value[key]` when it is a number. */
export function numberField(value: unknown, key: string): number | undefined {
  const found = field(value, key);
  return typeof found === 'number' ? found : undefined;
}
