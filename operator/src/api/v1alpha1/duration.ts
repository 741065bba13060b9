// Durations as users write them in specs ("30m", "2h", "1h30m"): the subset of Go durations
// that CEL's duration() also parses, so the API server and the controller agree.

/** Pattern for a duration string: one or more <number><unit>, units ms, s, m, h. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

/** Milliseconds in `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  let total = 0;
  for (const [, value, unit] of text.matchAll(PART))
    total += Number(value) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  return Number.isFinite(total) ? total : undefined;
}

/**
 * Milliseconds in a duration that its schema has validated (every kind read from the API server
 * is parsed): there is no fallback to fall back on, so anything else is a bug and throws.
 */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new TypeError(`not a duration: ${JSON.stringify(text)}`);
  return ms;
}
