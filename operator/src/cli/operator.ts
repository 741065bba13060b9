// `rdev operator`: runs the controllers against the cluster of the kubeconfig (or in-cluster).

import { hostname } from 'node:os';
import { collectDefaultMetrics } from 'prom-client';
import { operatorConfig } from '../config.ts';
import { registerControllers } from '../controllers/register.ts';
import { Manager } from '../runtime/manager.ts';
import { command, parseAddress } from './command.ts';
import { SUMMARIES } from './summaries.ts';

export const operatorCommand = command('operator', {
  summary: SUMMARIES.operator,
  schema: operatorConfig,
  prepare: (_config, kubeConfig) => kubeConfig,
  async run({ config, prepared: kubeConfig, log }) {
    const listen = [parseAddress(config.healthAddr), parseAddress(config.metricsAddr)].filter(
      (a, i, all): a is { host: string; port: number } =>
        a !== undefined && all.findIndex((b) => b?.host === a.host && b?.port === a.port) === i,
    );
    const manager = new Manager({
      kubeConfig,
      name: 'rdev-operator',
      identity: process.env.POD_NAME ?? `${hostname()}_${process.pid}`,
      namespaces: config.namespaces,
      leaderElection: config.leaderElect ? { namespace: config.leaderElectionNamespace } : undefined,
      listen,
      log,
    });
    registerControllers(manager, config);
    // The process's own figures (resident memory, heap, event loop lag) beside the controllers'.
    collectDefaultMetrics({ register: manager.metrics.registry });
    manager.stopOnSignals();
    // A stray rejection is a bug to log, not a reason to stop reconciling everything else.
    process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
    try {
      await manager.start();
    } catch (err) {
      log.error({ err }, 'could not start');
      await manager.stop().catch(() => undefined);
      return 1;
    }
    return new Promise<number>(() => undefined); // runs until a signal stops the manager
  },
});
