// Crash safety: the operator is SIGKILLed at random points while Projects are created and
// deleted, and restarted each time. It must converge: every deleted Project gone with all its
// children, every remaining one Ready with exactly one of each child.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { OWNED_RESOURCES } from '../../operator/src/controllers/project/names.ts';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { installCrds } from './support/crds.ts';
import { eventually, kubeConfig, useNamespace } from './support/kube.ts';
import { spawnOperator } from './support/operator.ts';
import { seededRandom } from './support/random.ts';

const kc = kubeConfig();
const client = new KubeClient(kc);
let operator = { kill: (_s: NodeJS.Signals) => true as boolean };
afterAll(() => {
  operator.kill('SIGKILL'); // after the namespace is gone (registered first, runs last)
});
const ns = useNamespace('rdev-chaos');
const random = seededRandom(42); // deterministic: a failure can be replayed
const pause = (maxMs: number) => new Promise((r) => setTimeout(r, Math.floor(random() * maxMs)));

beforeAll(async () => {
  await installCrds(kc);
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: ns.name,
    body: { metadata: { name: 'anthropic' }, stringData: { ANTHROPIC_API_KEY: 'sk-test-not-real' } },
  });
});

function restart() {
  operator.kill('SIGKILL');
  operator = spawnOperator(ns.name);
}

const ownedBy = (obj: KubeObject, uid: string) =>
  obj.metadata.ownerReferences?.some((o) => o.uid === uid && o.controller);

describe('the operator killed at random points', () => {
  it('converges over 20 create/delete cycles with nothing leaked and nothing duplicated', async () => {
    restart();
    const kept: string[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `chaos-${i}`;
      await client.create(PROJECTS, {
        apiVersion: 'rdev.dev/v1alpha1',
        kind: 'Project',
        metadata: { name, namespace: ns.name },
        spec: { agent: { credentialsSecretRef: { name: 'anthropic' } } },
      });
      await pause(1500);
      restart();
      if (i % 4 === 3) {
        kept.push(name); // every fourth Project stays, to check what a survivor looks like
        continue;
      }
      await pause(1000);
      await client.delete(PROJECTS, ns.name, name);
      await pause(1000);
      restart();
    }

    const projects = async () => (await client.list<KubeObject>(PROJECTS, ns.name)).items;
    await eventually(async () => (await projects()).length === kept.length, { timeoutMs: 90_000 });
    for (const name of kept) {
      await eventually(
        async () =>
          (await client.get<KubeObject & { status?: { phase?: string } }>(PROJECTS, ns.name, name)).status
            ?.phase === 'Ready',
        { timeoutMs: 60_000 },
      );
    }

    // Every managed child belongs to a live Project (nothing leaked), one of each kind per
    // Project (nothing duplicated) — once the garbage collector has caught up.
    const live = new Map((await projects()).map((p) => [p.metadata.uid as string, p.metadata.name]));
    await eventually(
      async () => {
        for (const resource of OWNED_RESOURCES) {
          const children = (
            await client.list<KubeObject>(resource, ns.name, {
              labelSelector: 'app.kubernetes.io/managed-by=rdev',
            })
          ).items;
          const owners = children.map(
            (c) => c.metadata.ownerReferences?.find((o) => o.controller)?.uid ?? 'none',
          );
          if (owners.some((uid) => !live.has(uid))) return false;
          if (new Set(owners).size !== owners.length || owners.length !== kept.length) return false;
        }
        return true;
      },
      { timeoutMs: 90_000 },
    );
    for (const [uid, name] of live) {
      for (const resource of OWNED_RESOURCES) {
        const children = (
          await client.list<KubeObject>(resource, ns.name, { labelSelector: `rdev.dev/project=${name}` })
        ).items;
        expect(
          children.filter((c) => ownedBy(c, uid)),
          `${resource.kind} of ${name}`,
        ).toHaveLength(1);
      }
    }
  });
});
