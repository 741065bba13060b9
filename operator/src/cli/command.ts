// What the `rdev` subcommands share: their shape, their start (options, errors, logger), the
// cluster they talk to, listen addresses and how they stop.
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { createLogger } from '../runtime/logging.ts';
import {
  ConfigError,
  configHelp,
  loadOptions,
  type OptionSchema,
  redactedConfig,
} from '../shared/options.ts';

/** A subcommand of the `rdev` CLI: `run` returns the process exit code. */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

/** A command past its start: its configuration, what `prepare` made of it and its logger. */
export interface Started<C, P> {
  config: C;
  prepared: P;
  log: Logger;
}

/** What a command is: its summary, its options (and notes for --help), its start and its run. */
export interface CommandSpec<C, P> {
  summary: string;
  schema: OptionSchema & z.ZodType<C>;
  notes?: string;
  /** Checks what the schema cannot and makes what the command needs, given the cluster's config. */
  prepare: (config: C, kubeConfig: KubeConfig) => P;
  /** Runs the started command; resolves with the exit code. */
  run: (started: Started<C, P>) => Promise<number>;
}

/** A subcommand that starts as every command does (see startCommand), then runs. */
export function command<C extends { logLevel: string; kubeconfig?: string }, P>(
  name: string,
  spec: CommandSpec<C, P>,
): Command {
  return {
    summary: spec.summary,
    async run(args) {
      const started = startCommand(name, args, spec);
      return typeof started === 'number' ? started : spec.run(started);
    },
  };
}

/**
 * The start every command shares. With --help: prints the options of `schema` (and `notes`),
 * exit code 0. Otherwise: loads the configuration and hands it, with the cluster it names, to
 * `prepare`, which checks what the schema cannot and makes what the command needs; an error in
 * any of these is printed with a pointer to --help, exit code 2. Then makes the logger and logs
 * the configuration, secrets masked. Returns the exit code when the command is done.
 */
function startCommand<C extends { logLevel: string; kubeconfig?: string }, P>(
  name: string,
  args: string[],
  spec: CommandSpec<C, P>,
): Started<C, P> | number {
  if (args.includes('--help') || args.includes('-h')) {
    const notes = spec.notes ? `\n\n${spec.notes}` : '';
    console.log(
      `Usage: rdev ${name} [options]\n\nOptions (flags win over environment variables, which win over the config file):\n${configHelp(spec.schema)}${notes}`,
    );
    return 0;
  }
  let config: C;
  let prepared: P;
  try {
    config = loadOptions(spec.schema, args);
    prepared = spec.prepare(config, kubeConfigFor(config));
  } catch (err) {
    console.error(
      `rdev ${name}: ${err instanceof Error ? err.message : String(err)}\nRun \`rdev ${name} --help\` for the options.`,
    );
    return 2;
  }
  const log = createLogger({ level: config.logLevel, name: `rdev-${name}` });
  log.info({ config: redactedConfig(config, spec.schema) }, `starting rdev ${name}`);
  return { config, prepared, log };
}

/** On the first SIGTERM or SIGINT: runs `shutdown`, then exits 0, or 1 when it fails. */
export function exitOnSignals(log: Logger, shutdown: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    shutdown(signal).then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/** ":8080" or "127.0.0.1:8080" → listen address; "" → none. */
export function parseAddress(addr: string): { host: string; port: number } | undefined {
  if (!addr) return undefined;
  const colon = addr.lastIndexOf(':');
  const port = Number(addr.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`"${addr}" is not an address of the form host:port or :port`);
  }
  return { host: addr.slice(0, colon) || '0.0.0.0', port };
}

/** The cluster to talk to: --kubeconfig, $KUBECONFIG, ~/.kube/config or in-cluster. */
export function kubeConfigFor(config: { kubeconfig?: string }): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  // With nothing found, the client falls back to an unauthenticated http://localhost:8080.
  const server = kc.getCurrentCluster()?.server;
  if (!server || server === 'http://localhost:8080') {
    throw new ConfigError(
      'no cluster to talk to: pass --kubeconfig, set $KUBECONFIG, or run inside a cluster',
    );
  }
  return kc;
}
