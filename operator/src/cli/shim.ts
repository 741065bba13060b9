// `rdev shim`: the REST API for holders of an API key (see api-shim/src).
import { loadShimConfig, SHIM_OPTIONS, type ShimConfig } from '../../../api-shim/src/config.ts';
import { createShim } from '../../../api-shim/src/shim.ts';
import { configHelp, redactedConfig } from '../config.ts';
import { createLogger } from '../runtime/logging.ts';
import { type Command, kubeConfigFor, parseAddress } from './command.ts';

export const shimCommand: Command = {
  summary: 'serve the REST API for bots and CI systems that hold an API key',
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      console.log(
        `Usage: rdev shim [options]\n\nOptions (flags win over environment variables, which win over the config file):\n${configHelp(SHIM_OPTIONS)}\n\n$RDEV_BOOTSTRAP_KEY: an admin API key known only to this process (instead of --bootstrap-key-secret)`,
      );
      return 0;
    }
    let config: ShimConfig;
    let listen: { host: string; port: number };
    let kubeConfig: ReturnType<typeof kubeConfigFor>;
    try {
      config = loadShimConfig(args);
      kubeConfig = kubeConfigFor(config);
      const address = parseAddress(config.listen);
      if (!address) throw new Error('--listen: an address is required');
      listen = address;
    } catch (err) {
      console.error(
        `rdev shim: ${err instanceof Error ? err.message : String(err)}\nRun \`rdev shim --help\` for the options.`,
      );
      return 2;
    }
    const log = createLogger({ level: config.logLevel, name: 'rdev-shim' });
    log.info({ config: redactedConfig(config, SHIM_OPTIONS) }, 'starting rdev shim');
    const bootstrapKey = process.env.RDEV_BOOTSTRAP_KEY || undefined;
    const shim = await createShim(kubeConfig, { ...config, bootstrapKey }, log);
    await shim.app.listen({ host: listen.host, port: listen.port });
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      shim.close().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    await shim.context.cache.waitForSync();
    log.info('caches synced: ready');
    return new Promise<number>(() => undefined);
  },
};
