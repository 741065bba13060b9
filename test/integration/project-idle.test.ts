// An idle operator is quiet: with 100 Projects Ready and nothing changing, it writes nothing
// to the API server (no re-applies, no status updates, no events) for 30 s.
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { createAgentSecret, eventually, kubeConfig } from './support/kube.ts';
import { apiWrites, counterTotal } from './support/metrics.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { rdevKind } from './support/rdev-objects.ts';

const ns = useOperatorNamespace('rdev-idle');
const projects = rdevKind(new KubeClient(kubeConfig()), PROJECTS, ns, { spec: PROJECT_SPEC });

beforeAll(async () => {
  await createAgentSecret(ns.name);
});

describe('an idle operator', () => {
  it('makes no API writes for 30 s with 100 Projects Ready', async () => {
    const running = ns.operator;
    const names = Array.from({ length: 100 }, (_, i) => `idle-${i}`);
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(names.slice(i, i + 10).map((name) => projects.create(name)));
    }
    const ready = async () => (await projects.list()).filter((p) => p.status?.phase === 'Ready').length;
    await eventually(async () => (await ready()) === 100, { timeoutMs: 180_000, intervalMs: 1000 });
    // let the last reconciles (status of the final Pods) settle before counting
    await eventually(async () => (await counterTotal(running, 'workqueue_depth')) === 0);
    await new Promise((r) => setTimeout(r, 2000));

    const writes = () => apiWrites(running);
    const before = await writes();
    expect(before).toBeGreaterThan(100 * 6); // the count is real: creating them took many writes
    await new Promise((r) => setTimeout(r, 30_000));
    expect(await writes()).toBe(before);
    expect(await ready()).toBe(100);
  });
});
