// The shim's Feature routes through the real server (inject), without a cluster: the API server
// is an in-memory stand-in that keeps resourceVersions and refuses a merge patch made on an older
// one (409), as the real one does; the cache and the keys are the shim's own stores, filled by hand.
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { mergePatch } from '../../api-shim/src/http/merge-patch.ts';
import type { SecretObject } from '../../api-shim/src/keys/api-key.ts';
import { apiKeySecret, hashKey } from '../../api-shim/src/keys/api-key.ts';
import { KeyStore } from '../../api-shim/src/keys/key-store.ts';
import type { ShimContext } from '../../api-shim/src/routes/context.ts';
import { CAS_ATTEMPTS } from '../../api-shim/src/routes/features.ts';
import { UPDATED_BY_ANNOTATION } from '../../api-shim/src/routes/objects.ts';
import { buildServer } from '../../api-shim/src/server.ts';
import {
  type LiveFeature,
  type LiveProject,
  parseFeature,
  parseProject,
} from '../../operator/src/api/v1alpha1/index.ts';
import { ApiError, type Resource } from '../../operator/src/runtime/client.ts';
import type { Informer } from '../../operator/src/runtime/informer.ts';
import { Store } from '../../operator/src/runtime/store.ts';

const NS = 'team';
const SPEC_SHA = 'a'.repeat(40);
const NEW_SHA = 'b'.repeat(40);
const log = pino({ level: 'silent' });

type Json = Record<string, unknown> & {
  metadata: { name: string; resourceVersion?: string; [field: string]: unknown };
};

/** The API server's Features: versioned, a conditional merge patch refused on a newer version. */
class FakeApiServer {
  readonly objects = new Map<string, Json>();
  readonly featurePatches: { name: string; body: Json }[] = [];
  private version = 100;
  /** Runs just before a Feature patch is applied: someone else's write in between. */
  interfere: ((name: string) => void) | undefined;
  readonly cache = new Store<LiveFeature>();

  put(obj: Json): void {
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.version);
    this.objects.set(stored.metadata.name, stored);
    this.cache.upsert(parseFeature(stored));
  }

  stored(name: string): LiveFeature {
    return parseFeature(structuredClone(this.objects.get(name)));
  }

  async get(r: Resource, namespace: string, name: string): Promise<Json> {
    const obj = r.plural === 'features' && namespace === NS ? this.objects.get(name) : undefined;
    if (!obj) throw new ApiError(404, 'NotFound', `${r.plural} "${name}" not found`);
    return structuredClone(obj);
  }

  async create(r: Resource, obj: Json): Promise<Json> {
    if (r.plural !== 'features') throw new ApiError(403, 'Forbidden', 'not in this test');
    this.put({ ...obj, metadata: { ...obj.metadata, uid: `uid-${obj.metadata.name}` } });
    return structuredClone(this.objects.get(obj.metadata.name) as Json);
  }

  async patch(r: Resource, _namespace: string, name: string, body: Json): Promise<Json> {
    if (r.plural !== 'features') return body; // a key's last use: not this test's business
    this.featurePatches.push({ name, body: structuredClone(body) });
    this.interfere?.(name);
    const current = this.objects.get(name);
    if (!current) throw new ApiError(404, 'NotFound', `features "${name}" not found`);
    const { resourceVersion, ...metadata } = body.metadata;
    if (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion) {
      throw new ApiError(
        409,
        'Conflict',
        'the object has been modified; please apply your changes to the latest version',
      );
    }
    this.put(mergePatch(current, { ...body, metadata }) as Json);
    return structuredClone(this.objects.get(name) as Json);
  }
}

function featureObject(name: string, artifacts: unknown[] = []): Json {
  return {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Feature',
    metadata: { name, namespace: NS, uid: `uid-${name}` },
    spec: { projectRef: { name: 'shop' }, title: 'Log in' },
    status: { phase: 'specified', artifacts },
  };
}

let api: FakeApiServer;
let addKeySecret: (secret: SecretObject) => void = () => undefined;
const keyInformer = {
  on: (handlers: { add: (s: SecretObject) => void }) => {
    addKeySecret = handlers.add;
  },
} as unknown as Informer<SecretObject>;
const keys = new KeyStore(keyInformer, log);
const ADMIN = 'rdev_admin-key-for-these-tests';
keys.setBootstrapKey(ADMIN);

/** A key with `scopes` (and optionally limited to namespaces), known to the key store. */
function makeKey(id: string, scopes: string[], namespaces: string[] = []): string {
  const key = `rdev_${id}-secret-part`;
  addKeySecret(
    apiKeySecret('rdev-system', {
      id,
      name: `bot ${id}`,
      hash: hashKey(key),
      scopes: scopes as never,
      namespaces,
      projects: [],
      cidrs: [],
    }) as SecretObject,
  );
  return key;
}
const CI = makeKey('ci1', ['features:write', 'features:read']);
const READER = makeKey('reader1', ['features:read', 'work:write']);
const ELSEWHERE = makeKey('other1', ['features:write', 'features:read'], ['elsewhere']);

/** The Features' Project: listing a Project's Features needs it to exist. */
const projects = new Store<LiveProject>();
projects.upsert(
  parseProject({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: 'shop', namespace: NS, uid: 'uid-shop' },
    spec: { agent: { credentialsSecretRef: { name: 'anthropic' } } },
  }),
);

const context = () =>
  ({
    config: {
      namespace: 'rdev-system',
      namespaces: [],
      defaultNamespace: NS,
      workerNamespace: 'rdev-system',
    },
    keys,
    client: api,
    cache: {
      kinds: {
        Feature: { store: api.cache },
        Project: { store: projects },
      },
    },
  }) as unknown as ShimContext;

let app: ReturnType<typeof buildServer>;
beforeEach(async () => {
  await app?.close();
  api = new FakeApiServer();
  api.put(
    featureObject('login', [
      { type: 'spec', status: 'draft', path: 'features/login/spec.md', digest: SPEC_SHA },
      { type: 'design', status: 'missing', path: 'features/login/design.md' },
    ]),
  );
  app = buildServer(context(), {
    log,
    version: 'test',
    rateLimit: 1000,
    rateBurst: 1000,
    bodyLimit: 1 << 20,
    trustProxy: false,
  });
});

const post = (url: string, payload: unknown, key = CI) =>
  app.inject({
    method: 'POST',
    url,
    payload: payload as object,
    headers: { authorization: `Bearer ${key}` },
  });

describe('POST /features/{id}/approve and /reject', () => {
  it('records the decision by the key, on the version the Feature was read at', async () => {
    const res = await post('/features/login/approve', {
      artifact: 'spec',
      digest: SPEC_SHA,
      reason: 'clear',
    });
    expect(res.statusCode, res.body).toBe(200);
    const decision = { artifact: 'spec', digest: SPEC_SHA, by: 'bot ci1 (key ci1)', reason: 'clear' };
    expect(res.json().data.spec.approvals).toEqual([decision]);
    expect(api.stored('login').spec.approvals).toEqual([decision]);
    expect(api.stored('login').metadata.annotations?.[UPDATED_BY_ANNOTATION]).toBe('ci1');
    // The write is conditional on what was read.
    expect(api.featurePatches).toHaveLength(1);
    expect(api.featurePatches[0]?.body.metadata.resourceVersion).toBe('101');

    const rejected = await post('/features/login/reject', { artifact: 'spec', digest: SPEC_SHA });
    expect(rejected.statusCode).toBe(200);
    expect(api.stored('login').spec.rejections).toEqual([
      { artifact: 'spec', digest: SPEC_SHA, by: 'bot ci1 (key ci1)' },
    ]);
    expect(api.stored('login').spec.approvals).toEqual([decision]);
  });

  it('answers the same decision again with 200 and writes nothing', async () => {
    const body = { artifact: 'spec', digest: SPEC_SHA };
    expect((await post('/features/login/approve', body)).statusCode).toBe(200);
    const again = await post('/features/login/approve', body);
    expect(again.statusCode).toBe(200);
    expect(again.json().data.spec.approvals).toHaveLength(1);
    expect(api.featurePatches).toHaveLength(1);
    // Another key's approval of the same version is its own.
    expect((await post('/features/login/approve', body, ADMIN)).statusCode).toBe(200);
    expect(api.stored('login').spec.approvals.map((a) => a.by)).toEqual([
      'bot ci1 (key ci1)',
      'bootstrap (key bootstrap)',
    ]);
  });

  it('refuses a stale digest with 409 naming the current one, and an artifact not written yet', async () => {
    const stale = await post('/features/login/approve', { artifact: 'spec', digest: NEW_SHA });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining(SPEC_SHA),
    });
    for (const artifact of ['design', 'qa_plan']) {
      const missing = await post('/features/login/reject', { artifact, digest: SPEC_SHA });
      expect(missing.statusCode, artifact).toBe(409);
      expect(missing.json().error.message).toContain(`the artifact ${artifact} does not exist yet`);
    }
    expect(api.featurePatches).toEqual([]);
  });

  it('answers 400 naming the field: an unknown artifact, a digest that is no git SHA, an unknown field', async () => {
    const cases: [unknown, string][] = [
      [{ artifact: 'readme', digest: SPEC_SHA }, 'body.artifact'],
      [{ artifact: 'spec', digest: 'abc' }, 'body.digest'],
      [{ artifact: 'spec', digest: SPEC_SHA.toUpperCase() }, 'body.digest'],
      [{ artifact: 'spec' }, 'body.digest'],
      [{ artifact: 'spec', digest: SPEC_SHA, by: 'someone else' }, 'body.by'],
    ];
    for (const [body, field] of cases) {
      const res = await post('/features/login/approve', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: field })]),
      );
      expect(res.json().error.message).toContain(field);
    }
    expect(api.featurePatches).toEqual([]);
  });

  it('keeps a decision written meanwhile: the conflict is retried on the latest version', async () => {
    let once = true;
    api.interfere = (name) => {
      if (!once) return;
      once = false;
      const other = structuredClone(api.objects.get(name) as Json);
      (other.spec as { approvals: unknown[] }).approvals = [
        { artifact: 'spec', digest: SPEC_SHA, by: 'ann (key k2)' },
      ];
      api.put(other);
    };
    const res = await post('/features/login/approve', { artifact: 'spec', digest: SPEC_SHA });
    expect(res.statusCode, res.body).toBe(200);
    expect(api.stored('login').spec.approvals.map((a) => a.by)).toEqual([
      'ann (key k2)',
      'bot ci1 (key ci1)',
    ]);
    expect(api.featurePatches).toHaveLength(2);
  });

  it('checks the digest again after a conflict: the artifact may have changed meanwhile', async () => {
    api.interfere = (name) => {
      api.interfere = undefined;
      api.put(featureObject(name, [{ type: 'spec', status: 'draft', path: 'spec.md', digest: NEW_SHA }]));
    };
    const res = await post('/features/login/approve', { artifact: 'spec', digest: SPEC_SHA });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toContain(`at digest ${NEW_SHA}`);
    expect(api.stored('login').spec.approvals).toEqual([]);
  });

  it(`gives up with 409 after ${CAS_ATTEMPTS} conflicting writes in a row`, async () => {
    api.interfere = (name) => api.put(structuredClone(api.objects.get(name) as Json));
    const res = await post('/features/login/approve', { artifact: 'spec', digest: SPEC_SHA });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toMatch(new RegExp(`changed ${CAS_ATTEMPTS} times .*try again`));
    expect(api.featurePatches).toHaveLength(CAS_ATTEMPTS);
  });

  it('answers 404 for a Feature that does not exist, 403 without features:write or the namespace', async () => {
    expect((await post('/features/nope/approve', { artifact: 'spec', digest: SPEC_SHA })).statusCode).toBe(
      404,
    );
    const reader = await post('/features/login/approve', { artifact: 'spec', digest: SPEC_SHA }, READER);
    expect(reader.statusCode).toBe(403);
    expect(reader.json().error.message).toContain('features:write');
    // A key of another namespace looks there by default, and may not name this one.
    const away = await post('/features/login/approve', { artifact: 'spec', digest: SPEC_SHA }, ELSEWHERE);
    expect(away.statusCode).toBe(404);
    const named = await post(
      `/features/login/approve?namespace=${NS}`,
      { artifact: 'spec', digest: SPEC_SHA },
      ELSEWHERE,
    );
    expect(named.statusCode).toBe(403);
    expect(api.featurePatches).toEqual([]);
  });
});

describe('POST /features/{id}/waive', () => {
  it('records a waiver by the key, once per artifact', async () => {
    const res = await post('/features/login/waive', { artifact: 'qa_plan', reason: 'a one-line fix' });
    expect(res.statusCode, res.body).toBe(200);
    const waiver = { artifact: 'qa_plan', by: 'bot ci1 (key ci1)', reason: 'a one-line fix' };
    expect(api.stored('login').spec.waivers).toEqual([waiver]);
    const again = await post('/features/login/waive', { artifact: 'qa_plan', reason: 'other words' }, ADMIN);
    expect(again.statusCode).toBe(200);
    expect(again.json().data.spec.waivers).toEqual([waiver]);
    expect(api.featurePatches).toHaveLength(1);
  });

  it('needs an artifact type and a reason', async () => {
    for (const [body, field] of [
      [{ artifact: 'nothing', reason: 'x' }, 'body.artifact'],
      [{ artifact: 'audit' }, 'body.reason'],
      [{ artifact: 'audit', reason: '' }, 'body.reason'],
    ] as const) {
      const res = await post('/features/login/waive', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: field })]),
      );
    }
  });
});

describe('the shared routes of Features', () => {
  it('reads a Feature from the cache with features:read', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/features/login',
      headers: { authorization: `Bearer ${READER}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ kind: 'Feature', name: 'login', project: 'shop' });
    const list = await app.inject({
      method: 'GET',
      url: '/projects/shop/features',
      headers: { authorization: `Bearer ${READER}` },
    });
    expect(list.json().data.map((f: { name: string }) => f.name)).toEqual(['login']);
  });

  it('leaves decisions out of a create: they are made through approve, reject and waive', async () => {
    for (const field of ['approvals', 'rejections', 'waivers']) {
      const res = await post('/projects/shop/features', { spec: { title: 'x', [field]: [] } });
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error.details).toEqual([
        { path: `body.spec.${field}`, message: expect.stringContaining('approve') },
      ]);
    }
  });
});
