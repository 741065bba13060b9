// `rdev worker`: runs the WorkItems the operator binds to this worker (see worker/worker.ts).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClient } from '../runtime/client.ts';
import { workerConfig } from '../worker/config.ts';
import { LiveOutput } from '../worker/live-output.ts';
import { advertisedOutputURL, serveOutput } from '../worker/output-server.ts';
import { Worker } from '../worker/worker.ts';
import { command, exitOnSignals, parseAddress } from './command.ts';
import { SUMMARIES } from './summaries.ts';

export const workerCommand = command('worker', {
  summary: SUMMARIES.worker,
  schema: workerConfig,
  prepare: (config, kubeConfig) => ({
    client: new KubeClient(kubeConfig),
    health: parseAddress(config.healthAddr),
  }),
  async run({ config, prepared, log }) {
    // Live output is served next to /healthz, and only with a token to check.
    const tokenFile = prepared.health ? config.outputTokenFile : undefined;
    const liveOutput = tokenFile ? new LiveOutput() : undefined;
    let outputURL: string | undefined;
    let worker: Worker | undefined;
    if (prepared.health) {
      const server = createServer((req, res) => {
        if (liveOutput && tokenFile && serveOutput({ live: liveOutput, tokenFile, log }, req, res)) return;
        const ok = req.url === '/healthz' || (req.url === '/readyz' && worker?.ready === true);
        res.writeHead(ok ? 200 : req.url === '/readyz' ? 503 : 404).end(ok ? 'ok' : 'not ready');
      });
      const { host, port } = prepared.health;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.unref();
      if (liveOutput) {
        outputURL = advertisedOutputURL(config.outputHost, host, (server.address() as AddressInfo).port);
        if (!outputURL)
          log.warn(
            { healthAddr: config.healthAddr },
            'live output is served but not advertised: set --output-host to the address the shim reaches',
          );
      }
    } else if (config.outputTokenFile) {
      log.warn('--output-token-file needs --health-addr, where live output is served: it is off');
    }
    worker = new Worker({ client: prepared.client, config, log, liveOutput, outputURL });
    const running = worker;
    exitOnSignals(log, (signal) => {
      log.info({ signal, running: running.running }, 'shutting down: running items go back to the queue');
      return running.shutdown();
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
