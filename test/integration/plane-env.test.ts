// A Pod's env reaches the commands exec'd in it, as a kubelet gives it to the container's processes,
// and a Pod whose env names a missing Secret does not start until the Secret exists (a kubelet's
// CreateContainerConfigError). On the local plane, kwok does neither by itself: hack/kwok-env.ts
// resolves the env into the Pod's kwok Exec object and gates kwok's pod-ready stage.
import { describe, expect, inject, it } from 'vitest';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { CONFIG_MAPS, PODS, type Pod, SECRETS } from '../../operator/src/runtime/resources.ts';
import { execInPod } from '../../operator/src/shared/pod-exec.ts';
import { createSecret, eventually, kubeConfig, useNamespace } from './support/kube.ts';

const kc = kubeConfig();
const client = new KubeClient(kc);
const ns = useNamespace('rdev-plane-env');

const isReady = (pod: Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const readPod = (name: string) => client.get<Pod>(PODS, ns.name, name);
const untilReady = (name: string) => eventually(async () => isReady(await readPod(name)));

function createPod(name: string, container: Record<string, unknown> = {}) {
  return client.create(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns.name },
    spec: { containers: [{ name: 'main', image: 'busybox:1.37', command: ['sleep', '3600'], ...container }] },
  });
}

/** What `script` prints on stdout when exec'd in the Pod; it must exit 0. */
async function run(pod: string, script: string): Promise<string> {
  let out = '';
  const result = await execInPod(kc, { namespace: ns.name, pod, container: 'main' }, ['sh', '-c', script], {
    onStdout: (chunk) => {
      out += chunk.toString();
    },
    onStderr: () => undefined,
  });
  expect(result.code).toBe(0);
  return out;
}

describe('Pod env on exec', () => {
  it('holds a Pod whose env names a missing Secret, then gives its commands the env', async () => {
    await client.create(CONFIG_MAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: ns.name },
      data: { MODE: 'dev' },
    });
    await createPod('needs-secret', {
      envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
      env: [
        { name: 'LITERAL', value: 'plain value' },
        { name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
      ],
    });
    await createPod('plain');

    // A Pod created after it, without references, becomes Ready: by then the one waiting for its
    // Secret has been seen (scheduled), and it is not Ready.
    await untilReady('plain');
    const waiting = await eventually(async () => {
      const pod = await readPod('needs-secret');
      return pod.spec?.nodeName ? pod : undefined;
    });
    expect(isReady(waiting)).toBe(false);
    expect(waiting.status?.phase).toBe('Pending');

    await createSecret(ns.name, 'creds', { token: 's3cr3t value' });
    await untilReady('needs-secret');
    expect(await run('needs-secret', 'printf %s "$X"')).toBe('s3cr3t value');
    expect(await run('needs-secret', 'printf "%s|%s" "$LITERAL" "$CFG_MODE"')).toBe('plain value|dev');
  });

  // A kubelet keeps a started container's env until it restarts; the local plane hands a changed
  // Secret to the next exec, so that a rotated token is seen without a new Pod.
  it.skipIf(inject('plane').kind !== 'local')(
    'gives the next exec the value of a changed Secret',
    async () => {
      await untilReady('needs-secret');
      await client.patch(SECRETS, ns.name, 'creds', { stringData: { token: 'rotated' } }, 'merge');
      await eventually(async () => (await run('needs-secret', 'printf %s "$X"')) === 'rotated');
    },
  );

  it('runs a Pod without env references as before', async () => {
    await untilReady('plain');
    expect(await run('plain', 'echo ok')).toBe('ok\n');
  });
});
