// `rdev worker`: runs the WorkItems the operator binds to this worker (see worker/worker.ts).
import { createServer } from 'node:http';
import { KubeClient } from '../runtime/client.ts';
import { workerConfig } from '../worker/config.ts';
import { Worker } from '../worker/worker.ts';
import { command, exitOnSignals, parseAddress } from './command.ts';

export const workerCommand = command('worker', {
  summary: 'run WorkItems bound to this worker (one per worker pod)',
  schema: workerConfig,
  prepare: (config, kubeConfig) => ({
    client: new KubeClient(kubeConfig),
    health: parseAddress(config.healthAddr),
  }),
  async run({ config, prepared, log }) {
    const worker = new Worker({ client: prepared.client, config, log });
    if (prepared.health) {
      const server = createServer((req, res) => {
        const ok = req.url === '/healthz' || (req.url === '/readyz' && worker.ready);
        res.writeHead(ok ? 200 : req.url === '/readyz' ? 503 : 404).end(ok ? 'ok' : 'not ready');
      });
      server.listen(prepared.health.port, prepared.health.host);
      server.unref();
    }
    exitOnSignals(log, (signal) => {
      log.info({ signal, running: worker.running }, 'shutting down: running items go back to the queue');
      return worker.shutdown();
    });
    process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
    try {
      await worker.start();
    } catch (err) {
      log.error({ err }, 'could not start');
      return 1;
    }
    return new Promise<number>(() => undefined);
  },
});
