// Sessions on the real API server: bound to the Project's workspace Pod (or their own), commands
// through pods/exec (kwok runs them on this machine), the preview Service and Ingress, expiry by
// TTL and by idleness, and deletion with the Project.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS, SESSIONS } from '../../operator/src/api/resources.ts';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { INGRESSES, PODS, SERVICES } from '../../operator/src/runtime/resources.ts';
import { execInSession, SessionExecError } from '../../operator/src/sessions/exec.ts';
import { FakeCloudflare } from '../fakes/cloudflare.ts';
import { eventually, isNotFound, kubeConfig } from './support/kube.ts';
import { useOperatorNamespace } from './support/operator.ts';

type Obj = KubeObject & {
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    podName?: string;
    previewURL?: string;
    lastActivityAt?: string;
    expiresAt?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
};

const kc = kubeConfig();
const client = new KubeClient(kc);
// Previews get a DNS record each here (a preview domain without a wildcard record).
const cloudflare = await FakeCloudflare.start({ zones: ['example.dev'] });
afterAll(() => cloudflare.close());
const ns = useOperatorNamespace('rdev-sess', (namespace) => [
  '--preview-domain=preview.example.dev',
  '--preview-ingress-class=nginx',
  '--preview-dns-records',
  '--dns-mode=cloudflare',
  '--domain=example.dev',
  `--cloudflare-secret=${namespace}/cloudflare`,
  `--cloudflare-zone-id=${cloudflare.zone().id}`,
  `--cloudflare-api-url=${cloudflare.url}`,
  '--dns-target=CNAME:ingress.example.dev',
]);
const records = (name: string) => cloudflare.records().filter((r) => r.name === name);

const createProject = (name: string) =>
  client.create(PROJECTS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name, namespace: ns.name },
    spec: { agent: { credentialsSecretRef: { name: 'anthropic' } } },
  });
const createSession = (name: string, spec: Record<string, unknown> = {}, project = 'shop') =>
  client.create(SESSIONS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Session',
    metadata: { name, namespace: ns.name },
    spec: { projectRef: { name: project }, ...spec },
  });
const get = (name: string) => client.get<Obj>(SESSIONS, ns.name, name);
const active = (name: string) =>
  eventually(async () => {
    const s = await get(name);
    return s.status?.phase === 'Active' ? s : undefined;
  });
const gone = (name: string, timeoutMs = 60_000) =>
  eventually(async () => get(name).then(() => false, isNotFound), { timeoutMs });

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
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: ns.name,
    body: { metadata: { name: 'anthropic' }, stringData: { ANTHROPIC_API_KEY: 'sk-test-not-real' } },
  });
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: ns.name,
    body: { metadata: { name: 'cloudflare' }, stringData: { CLOUDFLARE_API_TOKEN: cloudflare.token } },
  });
  await createProject('shop');
  await eventually(async () => (await client.get<Obj>(PROJECTS, ns.name, 'shop')).status?.phase === 'Ready', {
    timeoutMs: 90_000,
  });
});

describe('a Session', () => {
  it("is Active in the Project's workspace Pod, belongs to the Project, and runs commands there", async () => {
    await createSession('shell');
    const session = await active('shell');
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
    expect(Date.parse((await get('shell')).status?.lastActivityAt ?? '')).toBeGreaterThan(
      Date.now() - 60_000,
    );
  });

  it('stops streaming when the caller goes away', async () => {
    await active('shell');
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
    await createSession('orphan', {}, 'nope');
    await eventually(async () => (await get('orphan')).status?.phase === 'Pending');
    await expect(run('orphan', ['true'])).rejects.toBeInstanceOf(SessionExecError);
  });

  it('exposes its preview port through a Service and an Ingress on <session>-<project>.<domain>', async () => {
    await createSession('web', { preview: { port: 8080 } });
    const session = await active('web');
    expect(session.status?.previewURL).toBe('http://web-shop.preview.example.dev');
    const ingress = await client.get<Obj>(INGRESSES, ns.name, 'web-preview');
    expect(ingress.spec).toMatchObject({
      ingressClassName: 'nginx',
      rules: [{ host: 'web-shop.preview.example.dev' }],
    });
    const service = await client.get<Obj>(SERVICES, ns.name, 'web-preview');
    expect(service.spec).toMatchObject({ ports: [{ port: 8080 }], selector: { 'rdev.dev/project': 'shop' } });
    expect(ingress.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Session',
      name: 'web',
      controller: true,
    });

    // Its DNS record, marked as the Session's, goes with it.
    const [record, ...more] = records('web-shop.preview.example.dev');
    expect(more).toEqual([]);
    expect(record).toMatchObject({ type: 'CNAME', content: 'ingress.example.dev' });
    expect(record?.comment).toContain(`rdev:${ns.name}/web`);
    await client.delete(SESSIONS, ns.name, 'web');
    await gone('web');
    expect(records('web-shop.preview.example.dev')).toEqual([]);
  });

  it("leaves a preview host's record alone when it is someone else's, and says so", async () => {
    cloudflare.seed({
      type: 'A',
      name: 'taken-shop.preview.example.dev',
      content: '192.0.2.1',
      proxied: false,
      comment: 'not rdev',
    });
    await createSession('taken', { preview: { port: 8080 } });
    await eventually(async () => {
      const c = (await get('taken')).status?.conditions?.find((x) => x.type === 'PreviewReady');
      return c?.reason === 'DNSRecordTaken';
    });
    await client.delete(SESSIONS, ns.name, 'taken');
    await gone('taken');
    expect(records('taken-shop.preview.example.dev')).toMatchObject([{ content: '192.0.2.1' }]);
  });

  it("gets a Pod of its own when dedicated, built from the Project's workspace template", async () => {
    await createSession('own', { dedicated: true });
    const session = await active('own');
    expect(session.status?.podName).toBe('own-session');
    const pod = await client.get<Obj>(PODS, ns.name, 'own-session');
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
  });

  it('stops its dedicated Pod while the Project is suspended, and starts it again after', async () => {
    await createProject('docs');
    await createSession('paused', { dedicated: true }, 'docs');
    await active('paused');
    const suspend = (suspended: boolean) =>
      client.patch(PROJECTS, ns.name, 'docs', { spec: { suspend: suspended } }, 'merge');
    await suspend(true);
    await eventually(async () => {
      const s = await get('paused');
      const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
      return s.status?.phase === 'Pending' && ready?.reason === 'WorkspaceUnavailable';
    });
    await eventually(async () => client.get(PODS, ns.name, 'paused-session').then(() => false, isNotFound));
    await suspend(false);
    expect((await active('paused')).status?.podName).toBe('paused-session');
  });

  it('stops exposing its preview when spec.preview goes', async () => {
    await createSession('peek', { preview: { port: 8080 } });
    await active('peek');
    expect(records('peek-shop.preview.example.dev')).toHaveLength(1);
    await client.patch(SESSIONS, ns.name, 'peek', { spec: { preview: null } }, 'merge');
    await eventually(async () => {
      const s = await get('peek');
      return !s.status?.previewURL && !s.status?.conditions?.some((c) => c.type === 'PreviewReady');
    });
    await eventually(async () =>
      client.get(INGRESSES, ns.name, 'peek-preview').then(() => false, isNotFound),
    );
    await eventually(async () => client.get(SERVICES, ns.name, 'peek-preview').then(() => false, isNotFound));
    expect(records('peek-shop.preview.example.dev')).toEqual([]);
    expect((await get('peek')).metadata.finalizers ?? []).toEqual([]);
  });

  it('ends at its TTL, or after idleTimeout without activity; activity keeps it', {
    timeout: 150_000,
  }, async () => {
    await createSession('brief', { ttl: '1m', idleTimeout: '1m' });
    await createSession('idle', { ttl: '10m', idleTimeout: '1m' });
    await createSession('busy', { ttl: '10m', idleTimeout: '1m' });
    await Promise.all([active('brief'), active('idle'), active('busy')]);
    await new Promise((r) => setTimeout(r, 35_000));
    await run('busy', ['true']); // resets its idle clock
    await Promise.all([gone('brief', 90_000), gone('idle', 90_000)]);
    expect((await get('busy')).status?.phase).toBe('Active');
  });

  it('goes with its Project', async () => {
    await createProject('blog');
    await createSession('draft', {}, 'blog');
    await eventually(async () => (await get('draft')).metadata.ownerReferences?.length === 1);
    await client.delete(PROJECTS, ns.name, 'blog');
    await gone('draft', 90_000);
  });
});
