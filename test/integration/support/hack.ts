// The harness's scripts (hack/), for tests that stop and start a part of it.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../support/manifests.ts';

type Action = 'stop-component' | 'start-component';

/** hack/services.sh stop-component|start-component <postgres|redis|gitea>: its exit status. */
export function servicesComponent(action: Action, component: string): number | null {
  return spawnSync(join(ROOT, 'hack', 'services.sh'), [action, component], { stdio: 'ignore' }).status;
}

/**
 * hack/cluster.sh stop-component|start-component <component> of the local plane. Asynchronous:
 * the test's own clients keep running (and failing) meanwhile.
 */
export function planeComponent(action: Action, component: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(join(ROOT, 'hack', 'cluster.sh'), [action, component], { stdio: 'ignore' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cluster.sh ${action}: ${code}`))));
  });
}
