// `rdev worker`: runs the WorkItems the operator binds to this worker (see worker/worker.ts).
import { createServer } from 'node:http';
import { KubeClient } from '../runtime/client.ts';
import { workerConfig } from '../worker/config.ts';
import { Worker } from '../worker/worker.ts';
import { type Command, exitOnSignals, kubeConfigFor, parseAddress, startCommand } from './command.ts';

export const workerCommand: Command = {
  summary: 'run WorkItems bound to this worker (one per worker pod)',
  async run(args) {
    const started = startCommand('worker', args, {
      schema: workerConfig,
      prepare: (config) => ({
        client: new KubeClient(kubeConfigFor(config)),
        health: parseAddress(config.healthAddr),
      }),
    });
    if (typeof started === 'number') return started;
    const { config, prepared, log } = started;
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
};
