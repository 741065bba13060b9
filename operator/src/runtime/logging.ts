// pino loggers with one shared redaction list: tokens, passwords, keys and Authorization
// headers never reach the logs, whatever object they are nested in.
import { type DestinationStream, type Logger, pino } from 'pino';

const SECRET_KEYS = [
  'password',
  'passwd',
  'token',
  'apiKey',
  'api_key',
  'secret',
  'authorization',
  'Authorization',
  'privateKey',
  'clientKey',
  'DATABASE_URL',
  'PGPASSWORD',
  'REDIS_URL',
];

/** Paths pino redacts: each secret key at the top level and up to three levels down. */
export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((k) => [
  k,
  `*.${k}`,
  `*.*.${k}`,
  `*.*.*.${k}`,
]).concat([
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
]);

/** A logger writing JSON to stdout, or to `destination` (tests read what is logged). */
export function createLogger(
  options: { level?: string; name?: string; destination?: DestinationStream } = {},
): Logger {
  const settings = {
    name: options.name ?? 'rdev',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
