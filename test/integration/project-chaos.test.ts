// Crash safety: the operator is SIGKILLed at random points while Projects are created and
// deleted, and restarted each time. It must converge: every deleted Project gone with all its
// children, every remaining one Ready with exactly one of each child.
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { MANAGED_BY_SELECTOR, OWNED_RESOURCES } from '../../operator/src/controllers/project/names.ts';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { installCrds } from './support/crds.ts';
import { createAgentSecret, eventually, kubeConfig, useNamespace } from './support/kube.ts';
import { useOperatorProcess } from './support/operator.ts';
import { seededRandom } from './support/random.ts';
import { rdevKind } from './support/rdev-objects.ts';

const kc = kubeConfig();
const client = new KubeClient(kc);
const operator = useOperatorProcess(() => ns.name);
const ns = useNamespace('rdev-chaos');
const projects = rdevKind(client, PROJECTS, ns, { spec: PROJECT_SPEC });
const random = seededRandom(42); // deterministic: a failure can be replayed
const pause = (maxMs: number) => new Promise((r) => setTimeout(r, Math.floor(random() * maxMs)));

beforeAll(async () => {
  await installCrds(kc);
  await createAgentSecret(ns.name);
});

const ownedBy = (obj: KubeObject, uid: string) =>
  obj.metadata.ownerReferences?.some((o) => o.uid === uid && o.controller);

describe('the operator killed at random points', () => {
  it('converges over 20 create/delete cycles with nothing leaked and nothing duplicated', async () => {
    operator.restart();
    const kept: string[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `chaos-${i}`;
      await projects.create(name);
      await pause(1500);
      operator.restart();
      if (i % 4 === 3) {
        kept.push(name); // every fourth Project stays, to check what a survivor looks like
        continue;
      }
      await pause(1000);
      await projects.delete(name);
      await pause(1000);
      operator.restart();
    }

    await eventually(async () => (await projects.list()).length === kept.length, { timeoutMs: 90_000 });
    for (const name of kept) await projects.phase(name, 'Ready', 60_000);

    // Every managed child belongs to a live Project (nothing leaked), one of each kind per
    // Project (nothing duplicated) — once the garbage collector has caught up.
    const live = new Map((await projects.list()).map((p) => [p.metadata.uid as string, p.metadata.name]));
    await eventually(
      async () => {
        for (const resource of OWNED_RESOURCES) {
          const children = (
            await client.list<KubeObject>(resource, ns.name, {
              labelSelector: MANAGED_BY_SELECTOR,
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
