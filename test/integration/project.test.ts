// The Project controller against the real control plane: a workspace comes up Ready with every
// child owned by the Project, survives and follows changes, and leaves nothing behind.
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { isNotFound, KubeClient, type KubeObject, type Resource } from '../../operator/src/runtime/client.ts';
import {
  EVENTS,
  NETWORK_POLICIES,
  PODS,
  PVCS,
  SECRETS,
  SERVICE_ACCOUNTS,
  SERVICES,
} from '../../operator/src/runtime/resources.ts';
import { eventually, kubeConfig, uniqueName } from './support/kube.ts';
import { kubectl } from './support/kubectl.ts';
import { useOperatorNamespace } from './support/operator.ts';

type Obj = KubeObject & { status?: Record<string, unknown>; spec?: Record<string, unknown> };

const kc = kubeConfig();
const client = new KubeClient(kc);
const core = kc.makeApiClient(CoreV1Api);
const ns = useOperatorNamespace('rdev-project');

beforeAll(async () => {
  await core.createNamespacedSecret({
    namespace: ns.name,
    body: { metadata: { name: 'anthropic' }, stringData: { ANTHROPIC_API_KEY: 'sk-test-not-real' } },
  });
});

const project = (name: string, spec: Record<string, unknown> = {}) =>
  client.create<Obj>(PROJECTS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name, namespace: ns.name },
    spec: { agent: { credentialsSecretRef: { name: 'anthropic' } }, ...spec },
  });
const getProject = (name: string) => client.get<Obj>(PROJECTS, ns.name, name);
const patchSpec = (name: string, spec: Record<string, unknown>) =>
  client.patch(PROJECTS, ns.name, name, { spec }, 'merge');
const condition = (p: Obj, type: string) =>
  (
    p.status?.conditions as { type: string; status: string; reason: string; message: string }[] | undefined
  )?.find((c) => c.type === type);
const waitReady = (name: string) =>
  eventually(async () => condition(await getProject(name), 'Ready')?.status === 'True', {
    timeoutMs: 30_000,
  });
const gone = (r: Resource, name: string) => client.get(r, ns.name, name).then(() => false, isNotFound);
const pod = (name: string) => client.get<Obj>(PODS, ns.name, `${name}-workspace`);

const CHILDREN: [Resource, (p: string) => string][] = [
  [SERVICE_ACCOUNTS, (p) => `${p}-workspace`],
  [PVCS, (p) => `${p}-workspace`],
  [SERVICES, (p) => `${p}-workspace`],
  [NETWORK_POLICIES, (p) => `${p}-workspace`],
  [PODS, (p) => `${p}-workspace`],
  [SECRETS, (p) => `${p}-credentials`],
];

describe('a Project', () => {
  it('becomes Ready with every child controlled by it, and deletion leaves nothing behind', async () => {
    const name = uniqueName('shop');
    const created = await project(name);
    await waitReady(name);

    const live = await getProject(name);
    expect(live.metadata.finalizers).toContain('rdev.dev/project');
    expect(live.status).toMatchObject({
      phase: 'Ready',
      observedGeneration: 1,
      workspace: { podName: `${name}-workspace` },
    });
    for (const [resource, childName] of CHILDREN) {
      const child = await client.get(resource, ns.name, childName(name));
      expect(child.metadata.ownerReferences, `${resource.kind} ${childName(name)}`).toEqual([
        expect.objectContaining({
          kind: 'Project',
          name,
          uid: created.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        }),
      ]);
    }
    const workspace = await pod(name);
    const spec = workspace.spec as {
      securityContext: object;
      containers: { securityContext: object; env: { name: string }[] }[];
    };
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.containers[0]?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(spec.containers[0]?.env.map((e) => e.name)).toContain('ANTHROPIC_API_KEY');
    expect(
      (await client.get<Obj>(SERVICE_ACCOUNTS, ns.name, `${name}-workspace`)).automountServiceAccountToken,
    ).toBe(false);

    const wait = kubectl('wait', '-n', ns.name, '--for=condition=Ready', `project/${name}`, '--timeout=10s');
    expect(wait.stdout).toContain('condition met');

    await client.delete(PROJECTS, ns.name, name);
    await eventually(() => gone(PROJECTS, name));
    for (const [resource, childName] of CHILDREN)
      await eventually(() => gone(resource, childName(name)), { timeoutMs: 60_000 });
  });

  it('tells the story in Events and recovers when a missing credentials Secret appears', async () => {
    const name = uniqueName('creds');
    const secret = uniqueName('keys');
    await project(name, { agent: { credentialsSecretRef: { name: secret } } });
    await eventually(async () => (await getProject(name)).status?.phase === 'Failed');
    const failing = condition(await getProject(name), 'WorkspaceReady');
    expect(failing).toMatchObject({ status: 'False', reason: 'CredentialsSecretNotFound' });
    expect(failing?.message).toContain(`Secret "${secret}"`);
    expect(await gone(PODS, `${name}-workspace`)).toBe(true);

    await core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: secret }, stringData: { OTHER: 'x' } },
    });
    await eventually(
      async () => condition(await getProject(name), 'WorkspaceReady')?.reason === 'CredentialsKeyMissing',
    );
    await client.patch(SECRETS, ns.name, secret, { stringData: { ANTHROPIC_API_KEY: 'sk-test' } }, 'merge');
    await waitReady(name);

    const events = await client.list<Obj & { regarding?: { name?: string }; reason?: string; type?: string }>(
      EVENTS,
      ns.name,
    );
    const story = events.items.filter((e) => e.regarding?.name === name).map((e) => `${e.type} ${e.reason}`);
    expect(story).toEqual(
      expect.arrayContaining([
        'Warning CredentialsSecretNotFound',
        'Warning CredentialsKeyMissing',
        'Normal Ready',
      ]),
    );
    const describe = kubectl('describe', 'project', '-n', ns.name, name).stdout;
    expect(describe).toContain('CredentialsSecretNotFound');
  });

  it('recreates a Pod deleted by hand', async () => {
    const name = uniqueName('recreate');
    await project(name);
    await waitReady(name);
    const first = await pod(name);
    await client.delete(PODS, ns.name, `${name}-workspace`);
    await eventually(
      async () => (await pod(name).catch(() => undefined))?.metadata.uid !== first.metadata.uid,
    );
    await waitReady(name);
  });

  it('replaces a Pod that failed', async () => {
    const name = uniqueName('failed');
    await project(name);
    await waitReady(name);
    const first = await pod(name);
    // what a kubelet reports when the container dies for good (restartPolicy aside)
    await client.patch(
      PODS,
      ns.name,
      `${name}-workspace`,
      { status: { phase: 'Failed', reason: 'Evicted' } },
      'merge',
      {},
      'status',
    );
    await eventually(
      async () => (await pod(name).catch(() => undefined))?.metadata.uid !== first.metadata.uid,
    );
    await waitReady(name);
  });

  it('suspends (Pod gone, volume kept) and resumes', async () => {
    const name = uniqueName('suspend');
    await project(name);
    await waitReady(name);
    const claim = await client.get(PVCS, ns.name, `${name}-workspace`);

    await patchSpec(name, { suspend: true });
    await eventually(async () => (await getProject(name)).status?.phase === 'Suspended');
    await eventually(() => gone(PODS, `${name}-workspace`));
    expect((await client.get(PVCS, ns.name, `${name}-workspace`)).metadata.uid).toBe(claim.metadata.uid);
    expect(condition(await getProject(name), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Suspended',
    });

    await patchSpec(name, { suspend: false });
    await waitReady(name);
    expect((await client.get(PVCS, ns.name, `${name}-workspace`)).metadata.uid).toBe(claim.metadata.uid);
  });

  it('replaces the Pod when a spec change needs a new one', async () => {
    const name = uniqueName('change');
    await project(name);
    await waitReady(name);
    const first = await pod(name);
    await patchSpec(name, { workspace: { env: [{ name: 'FEATURE', value: 'on' }] } });
    await eventually(async () => {
      const next = await pod(name).catch(() => undefined);
      const env = (next?.spec as { containers: { env: { name: string; value?: string }[] }[] } | undefined)
        ?.containers[0]?.env;
      return (
        next?.metadata.uid !== first.metadata.uid &&
        env?.some((e) => e.name === 'FEATURE' && e.value === 'on')
      );
    });
    await eventually(async () => (await getProject(name)).status?.observedGeneration === 2);
    await waitReady(name);
  });
});
