// The API as the API server sees it: the CRDs install, the examples apply, bad input is
// rejected at admission with the field at fault, and kubectl explain reads the descriptions.
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCrdFiles } from '../../operator/src/api/crd-files.ts';
import { examples, invalidCases } from '../support/manifests.ts';
import { apiErrorMessage, installCrds } from './support/crds.ts';
import { kubeConfig, useNamespace } from './support/kube.ts';
import { kubectl } from './support/kubectl.ts';
import { rdevObjects } from './support/rdev-objects.ts';

const kc = kubeConfig();
const ns = useNamespace('rdev-api');
const objects = () => rdevObjects(kc, ns.name);

beforeAll(async () => {
  await installCrds(kc);
});

async function rejection(attempt: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await attempt;
  } catch (err) {
    return { code: (err as { code?: number }).code ?? 0, message: apiErrorMessage(err) };
  }
  throw new Error('the API server accepted it');
}

describe('CRDs', () => {
  it('are stored exactly as generated (nothing dropped on the way in)', () => {
    for (const [file, text] of renderCrdFiles()) {
      const generated = parse(text) as { metadata: { name: string }; spec: { versions: unknown[] } };
      const stored = JSON.parse(kubectl('get', 'crd', generated.metadata.name, '-o', 'json').stdout) as {
        spec: { versions: unknown[] };
      };
      expect(stored.spec.versions, file).toEqual(generated.spec.versions);
    }
  });

  it('are served under the rdev category: kubectl get rdev lists every kind', () => {
    const run = kubectl('get', 'rdev', '-n', ns.name, '-o', 'name');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const resources = kubectl('api-resources', '--categories=rdev', '-o', 'name')
      .stdout.split('\n')
      .filter(Boolean);
    expect(resources.sort()).toEqual([
      'checkouts.rdev.dev',
      'features.rdev.dev',
      'projects.rdev.dev',
      'sessions.rdev.dev',
      'workitems.rdev.dev',
    ]);
  });

  it.each(examples().map((e) => [e.file, e.manifest] as const))(
    'accept %s (server-side dry run)',
    async (_f, m) => {
      const created = await objects().create(m, 'All');
      expect(created.metadata.name).toBe(m.metadata.name);
      expect(created.spec).toMatchObject(m.spec ?? {});
    },
  );

  it('fill in defaults at admission', async () => {
    const created = await objects().create(
      { apiVersion: 'rdev.dev/v1alpha1', kind: 'Project', metadata: { name: 'bare' } },
      'All',
    );
    expect(created.spec).toMatchObject({
      workspace: { storage: '10Gi' },
      repo: { private: true, deletionPolicy: 'Delete' },
      database: { deletionPolicy: 'Retain' },
    });
    // Unset on purpose: the operator decides from what it is configured with.
    expect(created.spec?.repo).not.toHaveProperty('enabled');
  });

  it('print descriptions in kubectl explain', () => {
    const database = kubectl('explain', 'project.spec.database');
    expect(database.status).toBe(0);
    expect(database.stdout).toContain('A database and login role for the Project');
    expect(database.stdout).toMatch(/engine\s+<string>\s+enum: postgres, cockroachdb/);
    const work = kubectl('explain', 'workitem.spec');
    expect(work.stdout).toContain('The desired state of the WorkItem.');
    expect(work.stdout).toContain('A second WorkItem with the same key in the same Project does not run');
  });
});

describe('admission rejects invalid manifests, naming the field', () => {
  it.each(invalidCases().map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    let attempt: Promise<unknown>;
    if (c.before) {
      const before = await objects().create(c.before);
      attempt = objects().replace({ ...c.manifest, metadata: before.metadata }, 'All');
    } else {
      attempt = objects().create(c.manifest, 'All');
    }
    const { code, message } = await rejection(attempt);
    expect(code).toBe(422);
    expect(message).toContain(c.field);
  });
});
