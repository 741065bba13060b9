import type { Writable } from 'node:stream';
import { type KubeConfig, Log, type LogOptions } from '@kubernetes/client-node';

/** A pod log being streamed into a Writable; `stop()` ends it without an error. */
export interface PodLogStream {
  stop(): void;
}

/**
 * Streams a container's log (pods/log) into `dest` with the client's `Log`.
 *
 * `Log.log` pipes the response into `dest` but leaves the response stream without an error
 * handler, so stopping it (or a dropped connection) would surface as an uncaught exception.
 * The source is reachable through the 'pipe' event `dest` emits: errors there are expected
 * once stopped, and otherwise end `dest` with the error.
 */
export async function streamPodLog(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  container: string,
  dest: Writable,
  options: LogOptions = {},
): Promise<PodLogStream> {
  let stopped = false;
  dest.once('pipe', (source) => {
    source.on('error', (err: Error) => {
      if (!stopped) dest.destroy(err);
    });
  });
  const controller = await new Log(kc).log(namespace, pod, container, dest, options);
  return {
    stop() {
      stopped = true;
      controller.abort();
    },
  };
}
