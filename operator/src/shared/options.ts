// Command-line options of rdev's commands, declared on their zod config schemas: a field that is
// an option carries `.meta({ option: { flag, env, help, default } })`, and everything else (the
// option table, the loader, --help, the redacted configuration) is derived by walking the schema.
// An option's config-file path is its path in the schema; its kind comes from the field's type.
// Values come from flags, then environment variables, then a YAML/JSON file (--config), then
// the defaults.
import { readFileSync } from 'node:fs';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isImagePattern } from './image-allow.ts';
import { isCidr } from './webhook-targets.ts';

/** How an option's text is read: a list is comma-separated or repeated. */
export type OptionKind = 'string' | 'boolean' | 'number' | 'list';

/** What a config field declares about itself as an option. */
export interface OptionMeta<T = unknown> {
  flag: string;
  env: string;
  help: string;
  /** The value when no flag, variable or file sets it. */
  default?: T;
  /** What docs/ show as the default, when the default depends on the machine. */
  shownDefault?: string;
  /** Masked when the configuration is printed. */
  secret?: boolean;
}

declare module 'zod' {
  interface GlobalMeta {
    /** Set on the config fields that are command-line options; `default` has the field's type. */
    option?: OptionMeta<z.$output>;
  }
}

/** An option as the loader, --help and docs/ use it: its metadata, config path and kind. */
export interface OptionSpec extends OptionMeta {
  path: string[];
  kind: OptionKind;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

// Fields every command has.
export const kubeconfigField = z
  .string()
  .optional()
  .describe('kubeconfig file; in-cluster config or $KUBECONFIG when unset')
  .meta({
    option: {
      flag: 'kubeconfig',
      env: 'KUBECONFIG',
      help: 'kubeconfig file (default: in-cluster, or $KUBECONFIG)',
    },
  });

export const logLevelField = z
  .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
  .describe('log level')
  .meta({
    option: {
      flag: 'log-level',
      env: 'LOG_LEVEL',
      help: 'trace, debug, info, warn, error or fatal',
      default: 'info',
    },
  });

/** The health endpoints of the operator and the worker. */
export const healthAddrField = z
  .string()
  .describe('address of /healthz and /readyz, host:port (empty: off)')
  .meta({
    option: {
      flag: 'health-addr',
      env: 'RDEV_HEALTH_ADDR',
      help: 'serve /healthz and /readyz on host:port; empty disables',
      default: ':8081',
    },
  });

/**
 * Ranges webhooks may reach although they are blocked (private, loopback, link-local): the
 * operator's deliveries and the shim's subscriptions take the same list.
 */
export const webhookAllowCidrsField = z
  .array(z.string().refine(isCidr, 'not a CIDR (e.g. 10.0.0.0/8, fd00::/8)'))
  .describe('CIDRs webhooks may reach although private, loopback or link-local')
  .meta({
    option: {
      flag: 'webhook-allow-cidrs',
      env: 'RDEV_WEBHOOK_ALLOW_CIDRS',
      help: 'CIDR that webhook URLs may point into although it is private, loopback or link-local (refused by default); repeat or comma-separate',
      default: [],
    },
  });

/**
 * Images workspaces (and so runners and dedicated Session Pods) may run: the operator runs no
 * other, the shim accepts no Project naming another. Empty: any image.
 */
export const allowedImagesField = z
  .array(z.string().refine(isImagePattern, 'not an image pattern (no spaces)'))
  .describe('image patterns workspaces may run (empty: any image)')
  .meta({
    option: {
      flag: 'allowed-images',
      env: 'RDEV_ALLOWED_IMAGES',
      help: 'image pattern workspaces may run (`*` matches any characters, e.g. ghcr.io/rdev-dev/*; a pattern without tag or digest allows any); repeat or comma-separate; none: any image',
      default: [],
    },
  });

/** Where the workers keep their heartbeat Leases: the operator schedules by them, the shim shows them. */
export const workerNamespaceField = (help: string) =>
  z
    .string()
    .min(1)
    .describe("namespace of the workers' heartbeat Leases")
    .meta({
      option: { flag: 'worker-namespace', env: 'RDEV_WORKER_NAMESPACE', help, default: 'rdev-system' },
    });

/** The Woodpecker server and its token, as the operator (registering repositories) and the worker take them. */
export const woodpeckerFields = (urlHelp: string) => ({
  url: z
    .string()
    .url()
    .optional()
    .describe('root URL of the Woodpecker server')
    .meta({ option: { flag: 'woodpecker-url', env: 'RDEV_WOODPECKER_URL', help: urlHelp } }),
  secret: z
    .string()
    .optional()
    .describe('Secret (namespace/name) with WOODPECKER_TOKEN')
    .meta({
      option: {
        flag: 'woodpecker-secret',
        env: 'RDEV_WOODPECKER_SECRET',
        help: 'namespace/name of a Secret with WOODPECKER_TOKEN',
      },
    }),
});

/** A config schema whose fields (or the fields of its nested objects) are options. */
export type OptionSchema = z.ZodObject;

/** The schema inside `.optional()`, `.nullable()`, `.default()` and `.prefault()`. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  if (
    schema instanceof z.core.$ZodOptional ||
    schema instanceof z.core.$ZodNullable ||
    schema instanceof z.core.$ZodDefault ||
    schema instanceof z.core.$ZodPrefault
  ) {
    return unwrap(schema._zod.def.innerType);
  }
  return schema;
}

function kindOf(schema: z.core.$ZodType, path: string[]): OptionKind {
  const type = unwrap(schema)._zod.def.type;
  switch (type) {
    case 'string':
    case 'enum':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'array':
      return 'list';
    default:
      throw new Error(`${path.join('.')}: a ${type} field cannot be an option`);
  }
}

/** Every option of a config schema, in the order of its fields: the --help order. */
export function optionsOf(schema: OptionSchema, prefix: string[] = []): OptionSpec[] {
  const fields: Record<string, z.core.$ZodType> = schema.shape;
  return Object.entries(fields).flatMap(([key, field]) => {
    const path = [...prefix, key];
    const option = z.globalRegistry.get(field)?.option;
    if (option) return [{ ...option, path, kind: kindOf(field, path) }];
    const inner = unwrap(field);
    return inner instanceof z.ZodObject ? optionsOf(inner, path) : [];
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function getPath(source: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), source);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  const [key, ...rest] = path;
  if (key === undefined) return;
  if (rest.length === 0) {
    target[key] = value;
    return;
  }
  const child = target[key];
  const node = isRecord(child) ? child : {};
  target[key] = node;
  setPath(node, rest, value);
}

function convert(spec: OptionSpec, raw: unknown, origin: string): unknown {
  if (spec.kind === 'list') {
    const items = Array.isArray(raw) ? raw.flatMap((r) => String(r).split(',')) : String(raw).split(',');
    return items.map((s) => s.trim()).filter(Boolean);
  }
  if (spec.kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (/^(true|1|yes)$/i.test(String(raw))) return true;
    if (/^(false|0|no)$/i.test(String(raw))) return false;
    throw new ConfigError(`${origin}: expected true or false, got "${String(raw)}"`);
  }
  if (spec.kind === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new ConfigError(`${origin}: expected a number, got "${String(raw)}"`);
    return n;
  }
  return String(raw);
}

/** Fills `schema` from its options: flags, then environment, then the --config file, then defaults. */
export function loadOptions<S extends OptionSchema>(
  schema: S,
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const table = optionsOf(schema);
  const options: ParseArgsOptionsConfig = { config: { type: 'string' } };
  for (const o of table) {
    options[o.flag] = { type: o.kind === 'boolean' ? 'boolean' : 'string', multiple: o.kind === 'list' };
  }
  const { values } = parseArgs({ args: argv, strict: true, options });
  const configFile = typeof values.config === 'string' ? values.config : env.RDEV_CONFIG;
  const file: unknown = configFile ? parseYaml(readFileSync(configFile, 'utf8')) : {};
  const config: Record<string, unknown> = {};
  for (const spec of table) {
    const flag = values[spec.flag];
    const fromFile = getPath(file, spec.path);
    let value: unknown = spec.default;
    if (fromFile !== undefined) value = convert(spec, fromFile, `${configFile}: ${spec.path.join('.')}`);
    if (env[spec.env] !== undefined && env[spec.env] !== '')
      value = convert(spec, env[spec.env], `$${spec.env}`);
    if (flag !== undefined) value = convert(spec, flag, `--${spec.flag}`);
    if (value !== undefined) setPath(config, spec.path, value);
  }
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const spec = table.find((o) => o.path.join('.') === issue?.path.join('.'));
    throw new ConfigError(`${spec ? `--${spec.flag}` : issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

/** A command's option table (in --help order) and its loader, both derived from its config schema. */
export function commandOptions<S extends OptionSchema>(schema: S) {
  return {
    options: optionsOf(schema),
    load: (argv: string[], env: NodeJS.ProcessEnv = process.env): z.infer<S> =>
      loadOptions(schema, argv, env),
  };
}

/** Whether --help and docs/ show a default: an empty list is none. */
export const hasDefault = (o: OptionSpec): boolean =>
  o.default !== undefined && !(Array.isArray(o.default) && o.default.length === 0);

/** An option's default as text, a list comma-separated. */
export const defaultText = (o: OptionSpec): string =>
  Array.isArray(o.default) ? o.default.join(',') : String(o.default);

/** --help text of a config schema's options. */
export function configHelp(schema: OptionSchema): string {
  const rows: [string, string][] = [
    ['--config FILE', 'YAML or JSON file with any of the options below, by config path ($RDEV_CONFIG)'],
    ...optionsOf(schema).map((o): [string, string] => [
      `--${o.flag}${o.kind === 'boolean' ? '' : ` ${o.kind === 'list' ? 'LIST' : 'VALUE'}`}`,
      `${o.help} ($${o.env}; config: ${o.path.join('.')})${hasDefault(o) ? ` [default: ${defaultText(o)}]` : ''}`,
    ]),
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`).join('\n');
}

/** The configuration as printed at start: secret options masked. */
export function redactedConfig(
  config: Record<string, unknown>,
  schema: OptionSchema,
): Record<string, unknown> {
  const copy = structuredClone(config);
  for (const spec of optionsOf(schema).filter((o) => o.secret)) {
    if (getPath(copy, spec.path) !== undefined) setPath(copy, spec.path, '[redacted]');
  }
  return copy;
}
