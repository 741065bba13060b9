// Sessions on the real API server: bound to the Project's workspace Pod (or their own), commands
// through pods/exec (kwok runs them on this machine), the preview Service and Ingress, expiry by
// TTL and by idleness, and deletion with the Project.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execInSession, SessionExecError } from '../../api-shim/src/sessions/exec.ts';
import { PROJECTS, SESSIONS } from '../../operator/src/api/resources.ts';
import { previewHost } from '../../operator/src/controllers/session/desired.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { INGRESSES, NETWORK_POLICIES, PODS, SERVICES } from '../../operator/src/runtime/resources.ts';
import { FakeCloudflare } from '../fakes/cloudflare.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { createAgentSecret, createSecret, eventually, kubeConfig, untilGone } from './support/kube.ts';
import { cloudflareArgs, useOperatorNamespace } from './support/operator.ts';
import { conditionOf, type RdevLive, rdevKind } from './support/rdev-objects.ts';

type Obj = RdevLive & {
  status?: { podName?: string; previewURL?: string; lastActivityAt?: string; expiresAt?: string };
};

const kc = kubeConfig();
/** The preview host of Session `session` of Project shop in the test's namespace. */
const hostOf = (session: string) =>
  previewHost(
    { metadata: { name: session, namespace: ns.name }, spec: { projectRef: { name: 'shop' } } } as Parameters<
      typeof previewHost
    >[0],
    'preview.example.dev',
  );

const client = new KubeClient(kc);
// Previews get a DNS record each here (a preview domain without a wildcard record).
const cloudflare = await FakeCloudflare.start({ zones: ['example.dev'] });
afterAll(() => cloudflare.close());
const ns = useOperatorNamespace('rdev-sess', (namespace) => [
  '--preview-domain=preview.example.dev',
  '--preview-ingress-class=nginx',
  '--preview-dns-records',
  '--max-dedicated-sessions-per-project=1',
  ...cloudflareArgs(namespace, cloudflare),
]);
const records = (name: string) => cloudflare.records().filter((r) => r.name === name);
const projects = rdevKind(client, PROJECTS, ns, { spec: PROJECT_SPEC });
const sessions = rdevKind<Obj>(client, SESSIONS, ns, { spec: { projectRef: { name: 'shop' } } });

async function run(name: string, command: string[], signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await execInSession(kc, client, ns.name, name, command, {
    onStdout: (c) => out.push(c.toString()),
    onStderr: (c) => err.push(c.toString()),
    signal,
  });
  return { code, stdout: out.join(''), stderr: err.join(''), chunks: out };
}

beforeAll(async () => {
  await createAgentSecret(ns.name);
  await createSecret(ns.name, 'cloudflare', { CLOUDFLARE_API_TOKEN: cloudflare.token });
  await projects.create('shop');
  await projects.phase('shop', 'Ready', 90_000);
});

describe('a Session', () => {
  it("is Active in the Project's workspace Pod, belongs to the Project, and runs commands there", async () => {
    await sessions.create('shell');
    const session = await sessions.phase('shell', 'Active');
    expect(session.status?.podName).toBe('shop-workspace');
    expect(session.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Project', name: 'shop' });

    expect(await run('shell', ['echo', 'hi'])).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect(await run('shell', ['sh', '-c', 'echo oops >&2; exit 3'])).toMatchObject({
      code: 3,
      stderr: 'oops\n',
    });
    const streamed = await run('shell', ['sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done']);
    expect(streamed.stdout).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    expect(streamed.chunks.length).toBeGreaterThan(1); // streamed as it came, not at the end
    expect(Date.parse((await sessions.get('shell')).status?.lastActivityAt ?? '')).toBeGreaterThan(
      Date.now() - 60_000,
    );
  });

  it('stops streaming when the caller goes away', async () => {
    await sessions.phase('shell', 'Active');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const started = Date.now();
    const result = await run(
      'shell',
      ['sh', '-c', 'for i in $(seq 1 100); do echo $i; sleep 0.1; done'],
      controller.signal,
    );
    expect(Date.now() - started).toBeLessThan(8_000); // well before the command's 10 s
    expect(result.stdout.split('\n').length).toBeLessThan(50);
  });

  it('refuses commands until it is Active', async () => {
    await sessions.create('orphan', { projectRef: { name: 'nope' } });
    await eventually(async () => (await sessions.get('orphan')).status?.phase === 'Pending');
    await expect(run('orphan', ['true'])).rejects.toBeInstanceOf(SessionExecError);
  });

  it('exposes its preview port through a Service and an Ingress on <session>-<project>-<hash>.<domain>', async () => {
    await sessions.create('web', { preview: { port: 8080 } });
    const session = await sessions.phase('web', 'Active');
    expect(session.status?.previewURL).toBe(`http://${hostOf('web')}`);
    const ingress = await client.get<RdevLive>(INGRESSES, ns.name, 'web-preview');
    expect(ingress.spec).toMatchObject({
      ingressClassName: 'nginx',
      rules: [{ host: hostOf('web') }],
    });
    const service = await client.get<RdevLive>(SERVICES, ns.name, 'web-preview');
    expect(service.spec).toMatchObject({ ports: [{ port: 8080 }], selector: { 'rdev.dev/project': 'shop' } });
    expect(ingress.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Session',
      name: 'web',
      controller: true,
    });

    // Its DNS record, marked as the Session's, goes with it.
    const [record, ...more] = records(hostOf('web'));
    expect(more).toEqual([]);
    expect(record).toMatchObject({ type: 'CNAME', content: 'ingress.example.dev' });
    expect(record?.comment).toContain(`rdev:${ns.name}/web`);
    await sessions.delete('web');
    await sessions.gone('web');
    expect(records(hostOf('web'))).toEqual([]);
  });

  it("leaves a preview host's record alone when it is someone else's, and says so", async () => {
    cloudflare.seed({
      type: 'A',
      name: hostOf('taken'),
      content: '192.0.2.1',
      proxied: false,
      comment: 'not rdev',
    });
    await sessions.create('taken', { preview: { port: 8080 } });
    await eventually(async () => {
      const c = conditionOf(await sessions.get('taken'), 'PreviewReady');
      return c?.reason === 'DNSRecordTaken';
    });
    await sessions.delete('taken');
    await sessions.gone('taken');
    expect(records(hostOf('taken'))).toMatchObject([{ content: '192.0.2.1' }]);
  });

  it("gets a Pod of its own when dedicated, built from the Project's workspace template", async () => {
    await sessions.create('own', { dedicated: true });
    const session = await sessions.phase('own', 'Active');
    expect(session.status?.podName).toBe('own-session');
    const pod = await client.get<RdevLive>(PODS, ns.name, 'own-session');
    expect(pod.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Session',
      name: 'own',
      controller: true,
    });
    const spec = pod.spec as {
      containers: { env?: { name: string; value?: string }[] }[];
      volumes: Record<string, unknown>[];
    };
    expect(spec.containers[0]?.env).toContainEqual({ name: 'RDEV_PROJECT', value: 'shop' });
    expect(spec.volumes.find((v) => v.name === 'workspace')).toEqual({ name: 'workspace', emptyDir: {} });
    expect(await run('own', ['echo', 'mine'])).toMatchObject({ code: 0, stdout: 'mine\n' });
    // Under the Project's NetworkPolicy, like its workspace Pod.
    const policy = await client.get<RdevLive>(NETWORK_POLICIES, ns.name, 'shop-workspace');
    const selector = (policy.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector;
    expect(pod.metadata.labels).toMatchObject(selector.matchLabels);
  });

  it('waits for a dedicated Pod while its Project has as many as --max-dedicated-sessions-per-project', async () => {
    await projects.create('crowd');
    await sessions.create('first', { dedicated: true, projectRef: { name: 'crowd' } });
    await sessions.phase('first', 'Active');
    await sessions.create('second', { dedicated: true, projectRef: { name: 'crowd' } });
    await eventually(
      async () => conditionOf(await sessions.get('second'), 'Ready')?.reason === 'QuotaExceeded',
    );
    expect(conditionOf(await sessions.get('second'), 'Ready')?.message).toContain(
      'the Project crowd has 1 Session with a dedicated Pod, the most it may have (--max-dedicated-sessions-per-project=1)',
    );
    await expect(client.get(PODS, ns.name, 'second-session')).rejects.toMatchObject({ code: 404 });
    // A shared Session of the same Project is not counted.
    await sessions.create('looker', { projectRef: { name: 'crowd' } });
    await sessions.phase('looker', 'Active');

    await sessions.delete('first');
    expect((await sessions.phase('second', 'Active', 90_000)).status?.podName).toBe('second-session');
  });

  it('stops its dedicated Pod while the Project is suspended, and starts it again after', async () => {
    await projects.create('docs');
    await sessions.create('paused', { dedicated: true, projectRef: { name: 'docs' } });
    await sessions.phase('paused', 'Active');
    const suspend = (suspended: boolean) => projects.patchSpec('docs', { suspend: suspended });
    await suspend(true);
    await eventually(async () => {
      const s = await sessions.get('paused');
      const ready = conditionOf(s, 'Ready');
      return s.status?.phase === 'Pending' && ready?.reason === 'WorkspaceUnavailable';
    });
    await untilGone(() => client.get(PODS, ns.name, 'paused-session'));
    await suspend(false);
    expect((await sessions.phase('paused', 'Active')).status?.podName).toBe('paused-session');
  });

  it('stops exposing its preview when spec.preview goes', async () => {
    await sessions.create('peek', { preview: { port: 8080 } });
    await sessions.phase('peek', 'Active');
    expect(records(hostOf('peek'))).toHaveLength(1);
    await sessions.patchSpec('peek', { preview: null });
    await eventually(async () => {
      const s = await sessions.get('peek');
      return !s.status?.previewURL && !s.status?.conditions?.some((c) => c.type === 'PreviewReady');
    });
    await untilGone(() => client.get(INGRESSES, ns.name, 'peek-preview'));
    await untilGone(() => client.get(SERVICES, ns.name, 'peek-preview'));
    expect(records(hostOf('peek'))).toEqual([]);
    expect((await sessions.get('peek')).metadata.finalizers ?? []).toEqual([]);
  });

  it('ends at its TTL, or after idleTimeout without activity; activity keeps it', {
    timeout: 150_000,
  }, async () => {
    await sessions.create('brief', { ttl: '1m', idleTimeout: '1m' });
    await sessions.create('idle', { ttl: '10m', idleTimeout: '1m' });
    await sessions.create('busy', { ttl: '10m', idleTimeout: '1m' });
    await Promise.all([
      sessions.phase('brief', 'Active'),
      sessions.phase('idle', 'Active'),
      sessions.phase('busy', 'Active'),
    ]);
    await new Promise((r) => setTimeout(r, 35_000));
    await run('busy', ['true']); // resets its idle clock
    await Promise.all([sessions.gone('brief', 90_000), sessions.gone('idle', 90_000)]);
    expect((await sessions.get('busy')).status?.phase).toBe('Active');
  });

  it('goes with its Project', async () => {
    await projects.create('blog');
    await sessions.create('draft', { projectRef: { name: 'blog' } });
    await eventually(async () => (await sessions.get('draft')).metadata.ownerReferences?.length === 1);
    await projects.delete('blog');
    await sessions.gone('draft', 90_000);
  });
});
