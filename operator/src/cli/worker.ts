// `rdev worker`: runs the WorkItems the operator binds to this worker (see worker/worker.ts).
import { createServer } from 'node:http';
import { ConfigError, configHelp, redactedConfig } from '../config.ts';
import { KubeClient } from '../runtime/client.ts';
import { createLogger } from '../runtime/logging.ts';
import { loadWorkerConfig, WORKER_OPTIONS, type WorkerConfig } from '../worker/config.ts';
import { Worker } from '../worker/worker.ts';
import { type Command, kubeConfigFor, parseAddress } from './command.ts';

export const workerCommand: Command = {
  summary: 'run WorkItems bound to this worker (one per worker pod)',
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      console.log(
        `Usage: rdev worker [options]\n\nOptions (flags win over environment variables, which win over the config file):\n${configHelp(WORKER_OPTIONS)}`,
      );
      return 0;
    }
    let config: WorkerConfig;
    let client: KubeClient;
    let health: { host: string; port: number } | undefined;
    try {
      config = loadWorkerConfig(args);
      client = new KubeClient(kubeConfigFor(config));
      health = parseAddress(config.healthAddr);
    } catch (err) {
      if (!(err instanceof ConfigError) && !(err instanceof Error)) throw err;
      console.error(`rdev worker: ${err.message}\nRun \`rdev worker --help\` for the options.`);
      return 2;
    }
    const log = createLogger({ level: config.logLevel, name: 'rdev-worker' });
    log.info({ config: redactedConfig(config, WORKER_OPTIONS) }, 'starting rdev worker');
    const worker = new Worker({ client, config, log });
    if (health) {
      const server = createServer((req, res) => {
        const ok = req.url === '/healthz' || (req.url === '/readyz' && worker.ready);
        res.writeHead(ok ? 200 : req.url === '/readyz' ? 503 : 404).end(ok ? 'ok' : 'not ready');
      });
      server.listen(health.port, health.host);
      server.unref();
    }
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, running: worker.running }, 'shutting down: running items go back to the queue');
      worker.shutdown().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
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
