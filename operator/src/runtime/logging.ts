// pino loggers with one shared redaction list: tokens, passwords, keys and Authorization
// headers never reach the logs, whatever object they are nested in. Errors are serialized
// scrubbed: Node's ERR_INVALID_URL keeps the URL it could not parse (password included) in
// `input`, and messages and stacks may quote a URL with userinfo.
import {
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Logger,
  pino,
  stdSerializers,
} from 'pino';

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

const CENSOR = '[redacted]';
/** scheme://user:password@ — the password goes, the rest stays readable. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):[^\s/?#@]*@/gi;
/** Keys of a serialized error whose value is the input that failed (a URL with its password). */
const INPUT_KEYS = new Set(['input']);

/** `text` with the password of every URL in it replaced. */
export function scrubURLs(text: string): string {
  return text.replace(USERINFO, `$1$2:${CENSOR}@`);
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubURLs(value);
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      INPUT_KEYS.has(k) && v !== undefined ? CENSOR : scrub(v, depth + 1),
    ]),
  );
}

/** pino's error serializer, then every string scrubbed of URL passwords and `input` redacted. */
function errorSerializer(err: unknown): unknown {
  return scrub(err instanceof Error ? stdSerializers.err(err) : err, 0);
}

/** A logger writing JSON to stdout, or to `destination` (tests read what is logged). */
export function createLogger(
  options: { level?: string; name?: string; destination?: DestinationStream } = {},
): Logger {
  const settings = {
    name: options.name ?? 'rdev',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    serializers: { err: errorSerializer, error: errorSerializer, cause: errorSerializer },
    hooks: {
      // The message itself may quote a URL (`could not reach ${url}`).
      logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? scrubURLs(a) : a)),
        );
      },
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/**
 * `parent.child(bindings, options)`, made only once something is written through it at a level
 * that is written. pino redacts a child's bindings as it makes it (every path of the redaction
 * list, for every value), which costs more than the rest of a cached read; most of the loggers
 * made per request never write a line. What it writes, when it does, is the child's.
 */
export function lazyChild(parent: Logger, bindings: Bindings, options?: ChildLoggerOptions): Logger {
  // A child with options of its own (a level, serializers) decides differently what it writes.
  if (options && Object.keys(options).length > 0) return parent.child(bindings, options);
  const lazy = Object.create(lazyPrototype(parent)) as Logger & Lazy;
  lazy[BINDINGS] = bindings;
  // Its own, even when undefined: a lazy parent's would be found through the prototype chain.
  lazy[MADE] = undefined;
  return lazy;
}

const BINDINGS = Symbol('bindings');
const MADE = Symbol('made');
interface Lazy {
  [BINDINGS]: Bindings;
  [MADE]?: Logger;
}
const lazyPrototypes = new WeakMap<Logger, Logger>();

/** What every lazy child of `parent` shares: its methods, each making the child when it must. */
function lazyPrototype(parent: Logger): Logger {
  const known = lazyPrototypes.get(parent);
  if (known) return known;
  const made = (lazy: Lazy): Logger => {
    lazy[MADE] ??= parent.child(lazy[BINDINGS]);
    return lazy[MADE];
  };
  const shared: PropertyDescriptorMap = {
    isLevelEnabled: {
      value(this: Lazy, level: string) {
        return (this[MADE] ?? parent).isLevelEnabled(level);
      },
    },
    child: {
      value(this: Lazy, bindings: Bindings, options?: ChildLoggerOptions) {
        return made(this).child(bindings, options);
      },
    },
    bindings: {
      value(this: Lazy) {
        return made(this).bindings();
      },
    },
    setBindings: {
      value(this: Lazy, bindings: Bindings) {
        made(this).setBindings(bindings);
      },
    },
    level: {
      get(this: Lazy) {
        return (this[MADE] ?? parent).level;
      },
      set(this: Lazy, level: string) {
        made(this).level = level;
      },
    },
  };
  for (const level of Object.keys(parent.levels.values)) {
    shared[level] = {
      value(this: Lazy, ...args: unknown[]) {
        if (!this[MADE] && !parent.isLevelEnabled(level)) return;
        (made(this)[level as 'info'] as (...a: unknown[]) => void)(...args);
      },
    };
  }
  const prototype = Object.create(parent, shared) as Logger;
  lazyPrototypes.set(parent, prototype);
  return prototype;
}
