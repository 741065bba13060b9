// An idle operator is quiet: with 100 Projects Ready and nothing changing, it writes nothing
// to the API server (no re-applies, no status updates, no events) for 30 s.
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { eventually, kubeConfig } from './support/kube.ts';
import { counterTotal, useOperatorNamespace, WRITE_VERBS } from './support/operator.ts';

const kc = kubeConfig();
const client = new KubeClient(kc);
const ns = useOperatorNamespace('rdev-idle');

beforeAll(async () => {
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: ns.name,
    body: { metadata: { name: 'anthropic' }, stringData: { ANTHROPIC_API_KEY: 'sk-test-not-real' } },
  });
});

describe('an idle operator', () => {
  it('makes no API writes for 30 s with 100 Projects Ready', async () => {
    const running = ns.operator;
    const names = Array.from({ length: 100 }, (_, i) => `idle-${i}`);
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(
        names.slice(i, i + 10).map((name) =>
          client.create(PROJECTS, {
            apiVersion: 'rdev.dev/v1alpha1',
            kind: 'Project',
            metadata: { name, namespace: ns.name },
            spec: { agent: { credentialsSecretRef: { name: 'anthropic' } } },
          }),
        ),
      );
    }
    const ready = async () =>
      (await client.list<KubeObject & { status?: { phase?: string } }>(PROJECTS, ns.name)).items.filter(
        (p) => p.status?.phase === 'Ready',
      ).length;
    await eventually(async () => (await ready()) === 100, { timeoutMs: 180_000, intervalMs: 1000 });
    // let the last reconciles (status of the final Pods) settle before counting
    await eventually(async () => (await counterTotal(running, 'workqueue_depth')) === 0);
    await new Promise((r) => setTimeout(r, 2000));

    const writes = () =>
      counterTotal(running, 'rest_client_requests_total', (l) => WRITE_VERBS.has(String(l.verb)));
    const before = await writes();
    expect(before).toBeGreaterThan(100 * 6); // the count is real: creating them took many writes
    await new Promise((r) => setTimeout(r, 30_000));
    expect(await writes()).toBe(before);
    expect(await ready()).toBe(100);
  });
});
