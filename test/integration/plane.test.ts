// What every controller in rdev relies on from the cluster it runs against: garbage collection
// through owner references, finalizers, pods that run, and pods/exec and pods/log streams.
import { PassThrough } from 'node:stream';
import { CoreV1Api, Exec, type V1ConfigMap, type V1Pod, type V1Status } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { exitCodeFromStatus } from '../../operator/src/shared/exec-status.ts';
import { streamPodLog } from '../../operator/src/shared/pod-log.ts';
import {
  configMapOwnerRef,
  eventually,
  isGone,
  kubeConfig,
  uniqueName,
  useNamespace,
  writePodLogLine,
} from './support/kube.ts';

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const ns = useNamespace('rdev-plane');

async function configMap(name: string, extra: Partial<V1ConfigMap['metadata']> = {}): Promise<V1ConfigMap> {
  return core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name, ...extra } } });
}

const gone = (name: string) => isGone(() => core.readNamespacedConfigMap({ name, namespace: ns.name }));

async function ownerAndChild(): Promise<{ owner: V1ConfigMap; child: string }> {
  const owner = await configMap(uniqueName('owner'));
  const child = uniqueName('child');
  await configMap(child, { ownerReferences: [{ ...configMapOwnerRef(owner), blockOwnerDeletion: true }] });
  return { owner, child };
}

describe('garbage collection through owner references', () => {
  it('deletes the child after its owner with background propagation', async () => {
    const { owner, child } = await ownerAndChild();
    const name = owner.metadata?.name ?? '';
    await core.deleteNamespacedConfigMap({ name, namespace: ns.name, propagationPolicy: 'Background' });
    expect(await gone(name)).toBe(true); // the owner goes at once; the collector follows
    await eventually(() => gone(child));
  });

  it('deletes the child before its owner with foreground propagation', async () => {
    const { owner, child } = await ownerAndChild();
    const name = owner.metadata?.name ?? '';
    await core.deleteNamespacedConfigMap({ name, namespace: ns.name, propagationPolicy: 'Foreground' });
    // While the child exists, the owner waits, held by the foregroundDeletion finalizer.
    const waiting = await core.readNamespacedConfigMap({ name, namespace: ns.name }).catch(() => undefined);
    if (waiting) expect(waiting.metadata?.finalizers).toContain('foregroundDeletion');
    await eventually(async () => (await gone(child)) && (await gone(name)));
  });
});

describe('finalizers', () => {
  it('block deletion until removed', async () => {
    const name = uniqueName('guarded');
    await configMap(name, { finalizers: ['rdev.dev/test-guard'] });
    await core.deleteNamespacedConfigMap({ name, namespace: ns.name });

    const terminating = await core.readNamespacedConfigMap({ name, namespace: ns.name });
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await gone(name)).toBe(false);

    await core.patchNamespacedConfigMap({
      name,
      namespace: ns.name,
      body: [{ op: 'remove', path: '/metadata/finalizers' }],
    });
    await eventually(() => gone(name));
  });
});

describe('pods', () => {
  const podName = uniqueName('worker');
  const marker = uniqueName('hello');

  async function runningPod(): Promise<V1Pod> {
    return eventually(async () => {
      const pod = await core.readNamespacedPod({ name: podName, namespace: ns.name });
      return pod.status?.phase === 'Running' && pod;
    });
  }

  it('become Running once scheduled onto a node', async () => {
    await core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: podName },
        spec: {
          containers: [
            {
              name: 'main',
              image: 'busybox:1.37',
              command: ['sh', '-c', `echo ${marker}; sleep 3600`],
            },
          ],
        },
      },
    });
    const pod = await runningPod();
    expect(pod.spec?.nodeName).toBeTruthy();
    expect(pod.status?.containerStatuses?.[0]?.ready).toBe(true);
  });

  it('stream stdout and stderr through pods/exec and report a non-zero exit status', async () => {
    await runningPod();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (c: Buffer) => out.push(c));
    stderr.on('data', (c: Buffer) => err.push(c));

    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(kc)
        .exec(
          ns.name,
          podName,
          'main',
          ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3'],
          stdout,
          stderr,
          null,
          false,
          resolve,
        )
        .catch(reject);
    });

    expect(Buffer.concat(out).toString()).toBe('to-stdout\n');
    expect(Buffer.concat(err).toString()).toBe('to-stderr\n');
    expect(status.status).toBe('Failure');
    expect(exitCodeFromStatus(status)).toBe(3);
  });

  it('stream their logs through pods/log, following new lines', async () => {
    await runningPod();
    const stream = new PassThrough();
    let seen = '';
    stream.on('data', (c: Buffer) => {
      seen += c.toString();
    });
    const log = await streamPodLog(kc, ns.name, podName, 'main', stream, { follow: true });
    try {
      const line = uniqueName('log-line');
      // On the local plane kwok serves the log from a file: append to it while following.
      const expected = writePodLogLine(line) ? line : marker;
      await eventually(() => seen.includes(expected), { timeoutMs: 30_000 });
    } finally {
      log.stop();
    }
  });
});
