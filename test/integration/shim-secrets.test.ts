// What a key may hand to a Project's Pods through the shim: only Secrets labelled for that Project
// (another Project's database credentials are refused, and a missing Secret answers alike), and
// only images --allowed-images allows. A Project made with kubectl keeps RBAC as its boundary,
// but the operator still runs no disallowed image.
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { workspaceName } from '../../operator/src/controllers/project/names.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { PODS } from '../../operator/src/runtime/resources.ts';
import { createSecret, eventually, isGone, kubeConfig } from './support/kube.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { rdevKind } from './support/rdev-objects.ts';
import { useShim } from './support/shim.ts';

const ALLOWED = ['ghcr.io/rdev-dev/*'];
const client = new KubeClient(kubeConfig());
const ns = useOperatorNamespace('rdev-shim-secrets', () => [`--allowed-images=${ALLOWED.join(',')}`]);
const shim = useShim(() => ns.name, { extra: { allowedImages: ALLOWED } });
const projects = rdevKind(client, PROJECTS, ns, { timeoutMs: 30_000 });

let key = '';
beforeAll(async () => {
  // The database Secret of Project bank, labelled as the operator labels it.
  await createSecret(
    ns.name,
    'bank-database',
    { PGUSER: 'bank', PGPASSWORD: 'not-for-shop' },
    { 'rdev.dev/project': 'bank', 'app.kubernetes.io/managed-by': 'rdev' },
  );
  await createSecret(
    ns.name,
    'shop-anthropic',
    { ANTHROPIC_API_KEY: 'sk-test-not-real' },
    {
      'rdev.dev/project': 'shop',
    },
  );
  key = await shim.key(['projects:write', 'projects:read'], { namespaces: [ns.name], projects: ['shop'] });
});

const envFrom = (secret: string) => ({
  workspace: {
    env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: secret, key: 'PGPASSWORD' } } }],
  },
});

describe('through the shim', () => {
  it("refuses another Project's database Secret, and a missing Secret alike", async () => {
    const foreign = await shim.call('POST', '/projects', {
      key,
      body: { name: 'shop', spec: envFrom('bank-database') },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error?.message).toBe(
      `spec.workspace.env[0].valueFrom.secretKeyRef: the Secret "bank-database" is not usable by the project shop: it must exist in the namespace ${ns.name} and carry the label rdev.dev/project=shop`,
    );
    const missing = await shim.call('POST', '/projects', {
      key,
      body: { name: 'shop', spec: envFrom('no-such-secret') },
    });
    expect(missing.status).toBe(403);
    expect(missing.body.error?.message).toBe(
      foreign.body.error?.message.replace('"bank-database"', '"no-such-secret"'),
    );
    expect(await isGone(() => projects.get('shop'))).toBe(true);
  });

  it('creates a Project naming its own labelled Secret', async () => {
    const created = await shim.call('POST', '/projects', {
      key,
      body: {
        name: 'shop',
        spec: {
          agent: { credentialsSecretRef: { name: 'shop-anthropic' } },
          ...envFrom('shop-anthropic'),
        },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // A later change to another Project's Secret is refused too.
    const patched = await shim.call('PATCH', '/projects/shop', {
      key,
      body: { spec: { agent: { credentialsSecretRef: { name: 'bank-database' } } } },
    });
    expect(patched.status).toBe(403);
    expect(patched.body.error?.message).toMatch(
      /^spec\.agent\.credentialsSecretRef: the Secret "bank-database"/,
    );
  });

  it('refuses an image --allowed-images does not allow', async () => {
    const refused = await shim.call('POST', '/projects', {
      body: { name: 'miner', spec: { workspace: { image: 'docker.io/library/busybox:1.36' } } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.message).toMatch(/^spec\.workspace\.image: /);
    expect(await isGone(() => projects.get('miner'))).toBe(true);
  });
});

describe('through kubectl', () => {
  it('a Project with a disallowed image stays at ImageNotAllowed, without a Pod', async () => {
    await projects.create('rogue', { workspace: { image: 'docker.io/library/busybox:1.36' } });
    const condition = await eventually(
      async () => {
        const c = await projects.condition('rogue', 'WorkspaceReady');
        return c?.reason === 'ImageNotAllowed' ? c : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(condition).toMatchObject({ status: 'False' });
    expect(condition.message).toContain('docker.io/library/busybox:1.36');
    expect((await projects.get('rogue')).status?.phase).toBe('Failed');
    // Still none a few reconciles later.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await isGone(() => client.get(PODS, ns.name, workspaceName('rogue')))).toBe(true);
    const pods = await client.list(PODS, ns.name, { labelSelector: 'rdev.dev/project=rogue' });
    expect(pods.items).toEqual([]);
  });
});
