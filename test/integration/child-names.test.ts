// A Project's children have fixed names (<project>-workspace…): an object of such a name that the
// Project does not control (made by someone else, or by another owner) is not taken over by
// server-side apply: the Project says so in WorkspaceReady (ChildNameTaken) and leaves it as it is.
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { workspaceName } from '../../operator/src/controllers/project/names.ts';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { SERVICE_ACCOUNTS } from '../../operator/src/runtime/resources.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { createAgentSecret, eventually, kubeConfig, uniqueName } from './support/kube.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { conditionOf, rdevKind } from './support/rdev-objects.ts';

const client = new KubeClient(kubeConfig());
const ns = useOperatorNamespace('rdev-child-names');
const projects = rdevKind(client, PROJECTS, ns, { spec: PROJECT_SPEC, timeoutMs: 30_000 });

beforeAll(async () => {
  await createAgentSecret(ns.name);
});

describe("a child's name taken by an object the Project does not control", () => {
  it('is refused with ChildNameTaken and the object is left untouched, until it goes', async () => {
    const name = uniqueName('taken');
    const foreign = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: workspaceName(name),
        namespace: ns.name,
        // Even with rdev's own label, it is not the Project's: no controller reference to it.
        labels: { 'app.kubernetes.io/managed-by': 'rdev', team: 'payments' },
        annotations: { owner: 'someone else' },
      },
      automountServiceAccountToken: true,
    };
    const before = await client.create<KubeObject>(SERVICE_ACCOUNTS, foreign);
    await projects.create(name);
    const condition = await eventually(async () => {
      const c = conditionOf(await projects.get(name), 'WorkspaceReady');
      return c?.reason === 'ChildNameTaken' && c;
    });
    expect(condition).toMatchObject({ status: 'False' });
    expect(condition.message).toContain(`ServiceAccount ${workspaceName(name)}`);
    expect(condition.message).toMatch(/not controlled by this Project/);

    const after = await client.get<KubeObject & { automountServiceAccountToken?: boolean }>(
      SERVICE_ACCOUNTS,
      ns.name,
      workspaceName(name),
    );
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.ownerReferences).toBeUndefined();
    expect(after.automountServiceAccountToken).toBe(true);

    // Once the name is free, the Project makes its own and becomes Ready.
    await client.delete(SERVICE_ACCOUNTS, ns.name, workspaceName(name));
    await projects.phase(name, 'Ready');
    const mine = await client.get<KubeObject>(SERVICE_ACCOUNTS, ns.name, workspaceName(name));
    expect(mine.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Project', name, controller: true });
  });
});
