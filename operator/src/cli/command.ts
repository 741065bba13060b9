// What the `rdev` subcommands share: their shape, the cluster they talk to and listen addresses.
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../config.ts';

/** A subcommand of the `rdev` CLI: `run` returns the process exit code. */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
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
