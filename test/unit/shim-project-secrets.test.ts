// What a key may hand to a Project's Pods through the shim: Secrets labelled for that Project
// only, and images --allowed-images allows. The real server (inject) without a cluster: the API
// server is a stand-in holding Secrets (served as metadata only) and Projects.
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { mergePatch } from '../../api-shim/src/http/merge-patch.ts';
import type { SecretObject } from '../../api-shim/src/keys/api-key.ts';
import { apiKeySecret, hashKey } from '../../api-shim/src/keys/api-key.ts';
import { KeyStore } from '../../api-shim/src/keys/key-store.ts';
import type { ShimContext } from '../../api-shim/src/routes/context.ts';
import { buildServer } from '../../api-shim/src/server.ts';
import { type LiveProject, parseProject } from '../../operator/src/api/v1alpha1/index.ts';
import { ApiError, type Resource } from '../../operator/src/runtime/client.ts';
import type { Informer } from '../../operator/src/runtime/informer.ts';
import { Store } from '../../operator/src/runtime/store.ts';
import { projectSecretReferences } from '../../operator/src/shared/project-secrets.ts';

const NS = 'team';
const log = pino({ level: 'silent' });

type Json = Record<string, unknown> & { metadata: { name: string; [field: string]: unknown } };

class FakeApiServer {
  readonly secrets = new Map<string, Json>();
  readonly projects = new Store<LiveProject>();
  readonly metadataReads: string[] = [];
  readonly writes: string[] = [];

  secret(name: string, labels: Record<string, string> = {}): void {
    this.secrets.set(name, { metadata: { name, namespace: NS, labels }, data: { TOKEN: 'c2VjcmV0' } });
  }

  async getMetadata(r: Resource, namespace: string, name: string): Promise<Json> {
    this.metadataReads.push(`${r.plural}/${namespace}/${name}`);
    const secret = r.plural === 'secrets' && namespace === NS ? this.secrets.get(name) : undefined;
    if (!secret) throw new ApiError(404, 'NotFound', `secrets "${name}" not found`);
    return { kind: 'PartialObjectMetadata', metadata: structuredClone(secret.metadata) };
  }

  async get(r: Resource, _namespace: string, name: string): Promise<Json> {
    throw new ApiError(404, 'NotFound', `${r.plural} "${name}" not found`);
  }

  async create(r: Resource, obj: Json): Promise<Json> {
    if (r.plural !== 'projects') throw new ApiError(403, 'Forbidden', 'not in this test');
    this.writes.push(`create ${obj.metadata.name}`);
    const stored = {
      ...obj,
      metadata: { ...obj.metadata, uid: `uid-${obj.metadata.name}`, resourceVersion: '1' },
    };
    this.projects.upsert(parseProject(stored));
    return stored;
  }

  async patch(r: Resource, _namespace: string, name: string, body: Json): Promise<Json> {
    if (r.plural !== 'projects') return body; // a key's last use
    this.writes.push(`patch ${name}`);
    const current = this.projects.get(`${NS}/${name}`);
    const merged = mergePatch(current, body) as Json;
    this.projects.upsert(parseProject(merged));
    return merged;
  }
}

let addKeySecret: (secret: SecretObject) => void = () => undefined;
const keyInformer = {
  on: (handlers: { add: (s: SecretObject) => void }) => {
    addKeySecret = handlers.add;
  },
} as unknown as Informer<SecretObject>;
const keys = new KeyStore(keyInformer, log);
const ADMIN = 'rdev_admin-key-for-these-tests';
keys.setBootstrapKey(ADMIN);

function makeKey(id: string, scopes: string[], projects: string[] = []): string {
  const key = `rdev_${id}-secret-part`;
  addKeySecret(
    apiKeySecret('rdev-system', {
      id,
      name: `bot ${id}`,
      hash: hashKey(key),
      scopes: scopes as never,
      namespaces: [NS],
      projects,
      cidrs: [],
    }) as SecretObject,
  );
  return key;
}
/** Limited to the Projects shop and blog. */
const SHOP = makeKey('shop1', ['projects:write', 'projects:read'], ['shop', 'blog']);

let api: FakeApiServer;
let app: ReturnType<typeof buildServer>;
beforeEach(async () => {
  await app?.close();
  api = new FakeApiServer();
  api.secret('shop-anthropic', { 'rdev.dev/project': 'shop' });
  api.secret('blog-token', { 'rdev.dev/project': 'blog' });
  api.secret('bank-db', { 'rdev.dev/project': 'bank', 'app.kubernetes.io/managed-by': 'rdev' });
  api.secret('unlabelled');
  const context = {
    config: {
      namespace: 'rdev-system',
      namespaces: [],
      defaultNamespace: NS,
      workerNamespace: 'rdev-system',
      allowedImages: ['ghcr.io/rdev-dev/*'],
      workspaceCaps: { cpu: '4', memory: '8Gi' },
    },
    keys,
    client: api,
    cache: { kinds: { Project: { store: api.projects } } },
  } as unknown as ShimContext;
  app = buildServer(context, {
    log,
    version: 'test',
    rateLimit: 1000,
    rateBurst: 1000,
    bodyLimit: 1 << 20,
    trustProxy: false,
  });
});

const send = (method: 'POST' | 'PATCH', url: string, payload: unknown, key = SHOP) =>
  app.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${key}` } });

const withEnvSecret = (name: string) => ({
  workspace: { env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name, key: 'TOKEN' } } }] },
});

describe('projectSecretReferences', () => {
  it('names every Secret of a spec, with its field; ConfigMaps are not Secrets', () => {
    expect(
      projectSecretReferences({
        agent: { credentialsSecretRef: { name: 'creds' } },
        workspace: {
          env: [
            { name: 'A', value: 'x' },
            { name: 'B', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
            { name: 'C', valueFrom: { secretKeyRef: { name: 'db', key: 'PASSWORD' } } },
          ],
          envFrom: [{ configMapRef: { name: 'cm' } }, { secretRef: { name: 'bulk' } }],
        },
      }),
    ).toEqual([
      { field: 'spec.agent.credentialsSecretRef', name: 'creds' },
      { field: 'spec.workspace.env[2].valueFrom.secretKeyRef', name: 'db' },
      { field: 'spec.workspace.envFrom[1].secretRef', name: 'bulk' },
    ]);
  });

  it('takes any shape without throwing', () => {
    for (const spec of [
      undefined,
      null,
      'x',
      [],
      {},
      { workspace: { env: 'x' } },
      { agent: { credentialsSecretRef: 3 } },
    ]) {
      expect(projectSecretReferences(spec)).toEqual([]);
    }
  });
});

describe('POST /projects', () => {
  it("creates a Project naming its own Secrets, reading only the Secrets' metadata", async () => {
    const res = await send('POST', '/projects', {
      name: 'shop',
      spec: {
        agent: { credentialsSecretRef: { name: 'shop-anthropic' } },
        ...withEnvSecret('shop-anthropic'),
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(api.metadataReads).toEqual([`secrets/${NS}/shop-anthropic`]);
  });

  it('refuses another Project’s Secret and a missing one alike, naming the field', async () => {
    const foreign = await send('POST', '/projects', { name: 'shop', spec: withEnvSecret('bank-db') });
    const missing = await send('POST', '/projects', { name: 'shop', spec: withEnvSecret('no-such') });
    for (const [res, name] of [
      [foreign, 'bank-db'],
      [missing, 'no-such'],
    ] as const) {
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error.message).toBe(
        `spec.workspace.env[0].valueFrom.secretKeyRef: the Secret "${name}" is not usable by the project shop: it must exist in the namespace ${NS} and carry the label rdev.dev/project=shop`,
      );
    }
    const unlabelled = await send('POST', '/projects', {
      name: 'shop',
      spec: { agent: { credentialsSecretRef: { name: 'unlabelled' } } },
    });
    expect(unlabelled.statusCode).toBe(403);
    expect(unlabelled.json().error.message).toMatch(
      /^spec\.agent\.credentialsSecretRef: the Secret "unlabelled"/,
    );
    expect(api.writes).toEqual([]);
  });

  it('accepts a Secret of another Project the key reaches, and refuses one it does not', async () => {
    expect(
      (await send('POST', '/projects', { name: 'shop', spec: withEnvSecret('blog-token') })).statusCode,
    ).toBe(201);
    // An admin key reaches every Project: bank's Secret is within it, not within shop's key.
    expect(
      (await send('POST', '/projects', { name: 'bank2', spec: withEnvSecret('bank-db') }, ADMIN)).statusCode,
    ).toBe(201);
  });

  it('refuses an image --allowed-images does not allow, naming spec.workspace.image', async () => {
    const res = await send('POST', '/projects', {
      name: 'shop',
      spec: { workspace: { image: 'evil.io/miner:1' } },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(
      /^spec\.workspace\.image: the image "evil\.io\/miner:1" is not among the allowed images/,
    );
    const ok = await send('POST', '/projects', {
      name: 'shop',
      spec: { workspace: { image: 'ghcr.io/rdev-dev/ws:2' } },
    });
    expect(ok.statusCode, ok.body).toBe(201);
  });
});

describe('caps on CPU and memory', () => {
  it('refuse a request or limit above --max-workspace-cpu/-memory, naming the field', async () => {
    const cpu = await send('POST', '/projects', {
      name: 'shop',
      spec: { workspace: { resources: { requests: { cpu: '500m' }, limits: { cpu: '64' } } } },
    });
    expect(cpu.statusCode).toBe(403);
    expect(cpu.json().error.message).toBe(
      "spec.workspace.resources.limits.cpu: 64 is above the most a Project's Pod may have (--max-workspace-cpu=4)",
    );
    const memory = await send('POST', '/projects', {
      name: 'shop',
      spec: { workspace: { resources: { requests: { memory: '9Gi' } } } },
    });
    expect(memory.statusCode).toBe(403);
    expect(memory.json().error.message).toMatch(/^spec\.workspace\.resources\.requests\.memory: 9Gi/);
    expect(api.writes).toEqual([]);
    const within = await send('POST', '/projects', {
      name: 'shop',
      spec: { workspace: { resources: { requests: { cpu: '4000m', memory: '8192Mi' } } } },
    });
    expect(within.statusCode, within.body).toBe(201);
    const patched = await send('PATCH', '/projects/shop', {
      spec: { workspace: { resources: { limits: { memory: '1Ti' } } } },
    });
    expect(patched.statusCode).toBe(403);
  });
});

describe('PATCH /projects/{p}', () => {
  beforeEach(async () => {
    expect((await send('POST', '/projects', { name: 'shop', spec: {} })).statusCode).toBe(201);
  });

  it('checks the Secrets of the spec the patch results in', async () => {
    const res = await send('PATCH', '/projects/shop', { spec: withEnvSecret('bank-db') });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(
      /^spec\.workspace\.env\[0\]\.valueFrom\.secretKeyRef: the Secret "bank-db"/,
    );
    const cred = await send('PATCH', '/projects/shop', {
      spec: { agent: { credentialsSecretRef: { name: 'no-such' } } },
    });
    expect(cred.statusCode).toBe(403);
    expect(api.writes).toEqual(['create shop']);
    expect(
      (await send('PATCH', '/projects/shop', { spec: withEnvSecret('shop-anthropic') })).statusCode,
    ).toBe(200);
  });

  it('refuses a disallowed image', async () => {
    const res = await send('PATCH', '/projects/shop', {
      spec: { workspace: { image: 'docker.io/library/ubuntu' } },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(/^spec\.workspace\.image:/);
  });
});
