// `rdev shim`: the REST API for holders of an API key (see api-shim/src).
import { shimConfig } from '../../../api-shim/src/config.ts';
import { createShim } from '../../../api-shim/src/shim.ts';
import { ConfigError } from '../shared/options.ts';
import { command, exitOnSignals, parseAddress } from './command.ts';
import { SUMMARIES } from './summaries.ts';

export const shimCommand = command('shim', {
  summary: SUMMARIES.shim,
  schema: shimConfig,
  prepare(config, kubeConfig) {
    const listen = parseAddress(config.listen);
    if (!listen) throw new ConfigError('--listen: an address is required');
    return { kubeConfig, listen };
  },
  notes:
    '$RDEV_BOOTSTRAP_KEY: an admin API key known only to this process (instead of --bootstrap-key-secret)',
  async run({ config, prepared, log }) {
    const bootstrapKey = process.env.RDEV_BOOTSTRAP_KEY || undefined;
    const shim = await createShim(prepared.kubeConfig, { ...config, bootstrapKey }, log);
    await shim.app.listen(prepared.listen);
    exitOnSignals(log, (signal) => {
      log.info({ signal }, 'shutting down');
      return shim.close();
    });
    await shim.context.cache.waitForSync();
    log.info('caches synced: ready');
    return new Promise<number>(() => undefined);
  },
});
