// The Project controller against the real control plane: a workspace comes up Ready with every
// child owned by the Project, survives and follows changes, and leaves nothing behind.
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import {
  credentialsSecretName,
  OWNED_RESOURCES,
  serviceName,
  workspaceName,
} from '../../operator/src/controllers/project/names.ts';
import { KubeClient, type KubeObject, type Resource } from '../../operator/src/runtime/client.ts';
import {
  EVENTS,
  PODS,
  type Pod,
  PVCS,
  SECRETS,
  SERVICE_ACCOUNTS,
  SERVICES,
} from '../../operator/src/runtime/resources.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import {
  createAgentSecret,
  createSecret,
  eventually,
  isGone,
  kubeConfig,
  uniqueName,
} from './support/kube.ts';
import { kubectl } from './support/kubectl.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { conditionOf, type RdevLive, rdevKind } from './support/rdev-objects.ts';

const client = new KubeClient(kubeConfig());
const ns = useOperatorNamespace('rdev-project');
const projects = rdevKind(client, PROJECTS, ns, { spec: PROJECT_SPEC, timeoutMs: 30_000 });

beforeAll(async () => {
  await createAgentSecret(ns.name);
});

const gone = (r: Resource, name: string) => isGone(() => client.get(r, ns.name, name));
const pod = (name: string) => client.get<Pod>(PODS, ns.name, workspaceName(name));

/** Every kind of child the Project controls, with the name its child of that kind has. */
const CHILDREN: [Resource, (p: string) => string][] = OWNED_RESOURCES.map((r) => [
  r,
  r === SECRETS ? credentialsSecretName : r === SERVICES ? serviceName : workspaceName,
]);

describe('a Project', () => {
  it('becomes Ready with every child controlled by it, and deletion leaves nothing behind', async () => {
    const name = uniqueName('shop');
    const created = await projects.create(name);
    await projects.phase(name, 'Ready');

    const live = await projects.get(name);
    // A workspace alone has nothing outside the cluster to release: no finalizer, no write for it.
    expect(live.metadata.finalizers ?? []).not.toContain('rdev.dev/project');
    expect(live.status).toMatchObject({
      phase: 'Ready',
      observedGeneration: 1,
      workspace: { podName: workspaceName(name) },
    });
    expect(CHILDREN.map(([r]) => r.kind)).toEqual(
      expect.arrayContaining([
        'ServiceAccount',
        'PersistentVolumeClaim',
        'Service',
        'NetworkPolicy',
        'Pod',
        'Secret',
      ]),
    );
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
      (
        await client.get<KubeObject & { automountServiceAccountToken?: boolean }>(
          SERVICE_ACCOUNTS,
          ns.name,
          workspaceName(name),
        )
      ).automountServiceAccountToken,
    ).toBe(false);

    const wait = kubectl('wait', '-n', ns.name, '--for=condition=Ready', `project/${name}`, '--timeout=10s');
    expect(wait.stdout).toContain('condition met');

    await projects.delete(name);
    await projects.gone(name);
    for (const [resource, childName] of CHILDREN)
      await eventually(() => gone(resource, childName(name)), { timeoutMs: 60_000 });
  });

  it('tells the story in Events and recovers when a missing credentials Secret appears', async () => {
    const name = uniqueName('creds');
    const secret = uniqueName('keys');
    await projects.create(name, { agent: { credentialsSecretRef: { name: secret } } });
    await projects.phase(name, 'Failed', 60_000);
    const failing = await projects.condition(name, 'WorkspaceReady');
    expect(failing).toMatchObject({ status: 'False', reason: 'CredentialsSecretNotFound' });
    expect(failing?.message).toContain(`Secret "${secret}"`);
    expect(await gone(PODS, workspaceName(name))).toBe(true);

    await createSecret(ns.name, secret, { OTHER: 'x' });
    await eventually(
      async () => (await projects.condition(name, 'WorkspaceReady'))?.reason === 'CredentialsKeyMissing',
    );
    await client.patch(SECRETS, ns.name, secret, { stringData: { ANTHROPIC_API_KEY: 'sk-test' } }, 'merge');
    await projects.phase(name, 'Ready');

    const events = await client.list<
      RdevLive & { regarding?: { name?: string }; reason?: string; type?: string }
    >(EVENTS, ns.name);
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

  it.each([
    {
      what: 'recreates a Pod deleted by hand',
      prefix: 'recreate',
      disrupt: (pod: string) => client.delete(PODS, ns.name, pod),
    },
    {
      what: 'replaces a Pod that failed',
      prefix: 'failed',
      // what a kubelet reports when the container dies for good (restartPolicy aside)
      disrupt: (pod: string) =>
        client.patch(
          PODS,
          ns.name,
          pod,
          { status: { phase: 'Failed', reason: 'Evicted' } },
          'merge',
          {},
          'status',
        ),
    },
  ])('$what', async ({ prefix, disrupt }) => {
    const name = uniqueName(prefix);
    await projects.create(name);
    await projects.phase(name, 'Ready');
    const first = await pod(name);
    await disrupt(workspaceName(name));
    // A new Pod, not merely the old one gone, and Running: then the Project is Ready again.
    await eventually(async () => {
      const next = await pod(name).catch(() => undefined);
      return (
        next !== undefined && next.metadata.uid !== first.metadata.uid && next.status?.phase === 'Running'
      );
    });
    await projects.phase(name, 'Ready');
  });

  it('suspends (Pod gone, volume kept) and resumes', async () => {
    const name = uniqueName('suspend');
    await projects.create(name);
    await projects.phase(name, 'Ready');
    const claim = await client.get(PVCS, ns.name, workspaceName(name));

    await projects.patchSpec(name, { suspend: true });
    await projects.phase(name, 'Suspended', 60_000);
    await eventually(() => gone(PODS, workspaceName(name)));
    expect((await client.get(PVCS, ns.name, workspaceName(name))).metadata.uid).toBe(claim.metadata.uid);
    expect(conditionOf(await projects.get(name), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Suspended',
    });

    await projects.patchSpec(name, { suspend: false });
    await projects.phase(name, 'Ready');
    expect((await client.get(PVCS, ns.name, workspaceName(name))).metadata.uid).toBe(claim.metadata.uid);
  });

  it('replaces the Pod when a spec change needs a new one', async () => {
    const name = uniqueName('change');
    await projects.create(name);
    await projects.phase(name, 'Ready');
    const first = await pod(name);
    await projects.patchSpec(name, { workspace: { env: [{ name: 'FEATURE', value: 'on' }] } });
    await eventually(async () => {
      const next = await pod(name).catch(() => undefined);
      const env = (next?.spec as { containers: { env: { name: string; value?: string }[] }[] } | undefined)
        ?.containers[0]?.env;
      return (
        next?.metadata.uid !== first.metadata.uid &&
        env?.some((e) => e.name === 'FEATURE' && e.value === 'on')
      );
    });
    await eventually(async () => (await projects.get(name)).status?.observedGeneration === 2);
    await projects.phase(name, 'Ready');
  });
});
