import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crdFor } from '../../operator/src/api/crd.ts';
import { renderCrdFiles } from '../../operator/src/api/crd-files.ts';
import { durationMs } from '../../operator/src/api/v1alpha1/duration.ts';
import {
  KINDS,
  parseSession,
  parseWorkItem,
  project,
  RESOURCES,
  session,
  workItem,
} from '../../operator/src/api/v1alpha1/index.ts';
import { examples, fieldPath, invalidCases, ROOT } from '../support/manifests.ts';

describe('crds/', () => {
  it('is what `make crds` generates from the schemas (run it after changing them)', () => {
    const dir = join(ROOT, 'crds');
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    const rendered = renderCrdFiles();
    expect(onDisk.sort()).toEqual([...rendered.keys()].sort());
    for (const [file, text] of rendered) expect(readFileSync(join(dir, file), 'utf8'), file).toBe(text);
  });

  it('documents every field, so that kubectl explain has something to say', () => {
    const undocumented: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      if (typeof node.description !== 'string' || node.description.length === 0) undocumented.push(path);
      for (const [name, child] of Object.entries(
        (node.properties ?? {}) as Record<string, Record<string, unknown>>,
      ))
        walk(child, `${path}.${name}`);
      if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
    };
    for (const def of KINDS) {
      const crd = crdFor(def) as {
        spec: { versions: { schema: { openAPIV3Schema: { properties: object } } }[] };
      };
      const props = crd.spec.versions[0]?.schema.openAPIV3Schema.properties as Record<
        string,
        Record<string, unknown>
      >;
      walk(props.spec ?? {}, `${def.kind}.spec`);
      walk(props.status ?? {}, `${def.kind}.status`);
    }
    expect(undocumented).toEqual([]);
  });

  it('declares status.conditions as a list-map keyed by type, for every kind', () => {
    for (const def of KINDS) {
      const text = renderCrdFiles().get(`${def.plural}.rdev.dev.yaml`) ?? '';
      expect(text).toMatch(
        /conditions:\n(?:.*\n)*?\s+x-kubernetes-list-type: map\n\s+x-kubernetes-list-map-keys:\n\s+- type/,
      );
    }
  });
});

describe('examples/', () => {
  const all = examples();

  it('has a minimal and a complete manifest of every kind', () => {
    for (const def of KINDS) {
      const files = all.filter((e) => e.manifest.kind === def.kind).map((e) => e.file);
      expect(files).toContain(`${def.singular}-minimal.yaml`);
      expect(files).toContain(`${def.singular}-complete.yaml`);
    }
  });

  it.each(all.map((e) => [e.file, e.manifest] as const))(
    '%s validates against the schema',
    (_file, manifest) => {
      const result = RESOURCES[manifest.kind].safeParse(manifest);
      expect(result.error?.issues ?? []).toEqual([]);
    },
  );
});

describe('defaults', () => {
  it('fill in a Project given no spec at all', () => {
    const parsed = project.parse({
      apiVersion: 'rdev.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: 'p' },
    });
    expect(parsed.spec).toMatchObject({
      agent: { provider: 'claude-code', model: '' },
      workspace: { storage: '10Gi', previewPort: 3000 },
      suspend: false,
      template: { name: 'monorepo', components: [] },
      repo: { private: true, deletionPolicy: 'Delete' },
      ci: {},
      database: { enabled: false, engine: 'postgres', deletionPolicy: 'Retain' },
      cache: { enabled: false, deletionPolicy: 'Delete' },
      dns: { enabled: false },
    });
  });

  it('fill in a Session and a WorkItem', () => {
    const base = { apiVersion: 'rdev.dev/v1alpha1', metadata: { name: 'x' } } as const;
    expect(
      session.parse({ ...base, kind: 'Session', spec: { projectRef: { name: 'shop' } } }).spec,
    ).toMatchObject({
      dedicated: false,
      ttl: '2h',
      idleTimeout: '30m',
    });
    expect(
      workItem.parse({ ...base, kind: 'WorkItem', spec: { projectRef: { name: 'shop' }, prompt: 'hi' } })
        .spec,
    ).toMatchObject({ type: 'agent', priority: 0, maxAttempts: 3, timeout: '30m', cancel: false });
  });
});

describe('objects read from the API server', () => {
  const stored = {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'WorkItem',
    metadata: {
      name: 'build',
      namespace: 'team',
      uid: 'u-1',
      generation: 2,
      managedFields: [{ manager: 'rdev-operator' }],
    },
    spec: { projectRef: { name: 'shop' }, type: 'shell', command: ['make'], fromNewerCrd: { on: true } },
    status: {
      phase: 'Queued',
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'Queued',
          message: '',
          lastTransitionTime: '2026-01-01T00:00:00Z',
          seenBy: 'x',
        },
      ],
    },
  };

  it('are parsed with their defaults filled in, and keep what the schema does not know', () => {
    const item = parseWorkItem(stored);
    expect(item.spec).toMatchObject({ priority: 0, maxAttempts: 3, timeout: '30m', cancel: false });
    expect(item.spec).toMatchObject({ fromNewerCrd: { on: true } });
    expect(item.metadata).toMatchObject({
      uid: 'u-1',
      generation: 2,
      managedFields: [{ manager: 'rdev-operator' }],
    });
    expect(item.status?.conditions?.[0]).toMatchObject({ type: 'Ready', seenBy: 'x' });
    expect(stored.spec).not.toHaveProperty('priority'); // the input is left as it was
  });

  it('get apiVersion and kind when a list left them out, and need a name, namespace and uid', () => {
    const { apiVersion: _a, kind: _k, ...bare } = stored;
    expect(parseWorkItem(bare)).toMatchObject({ apiVersion: 'rdev.dev/v1alpha1', kind: 'WorkItem' });
    expect(() => parseWorkItem({ ...stored, metadata: { name: 'build', namespace: 'team' } })).toThrow(/uid/);
  });

  it('are refused when they break the schema (an informer then skips them)', () => {
    const spec = { projectRef: { name: 'shop' }, ttl: '1h', idleTimeout: '2h' };
    const bad = {
      ...stored,
      kind: 'Session',
      metadata: { ...stored.metadata, creationTimestamp: 'x' },
      spec,
    };
    expect(() => parseSession(bad)).toThrow(/idleTimeout must not exceed ttl/);
  });

  it('have durations that read as milliseconds, or throw: there is no default to fall back on', () => {
    expect(durationMs('1h30m')).toBe(5_400_000);
    expect(() => durationMs('soon')).toThrow(/not a duration/);
  });
});

describe('invalid manifests', () => {
  const cases = invalidCases();

  it('number at least 25', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases.filter((c) => !c.admissionOnly).map((c) => [c.name, c] as const))(
    'zod rejects: %s',
    (_name, c) => {
      const result = RESOURCES[c.manifest.kind].safeParse(c.manifest);
      expect(result.success).toBe(false);
      const fields = (result.error?.issues ?? []).map((i) => fieldPath(i.path));
      expect(
        fields.some((f) => f === c.field || f.startsWith(`${c.field}.`) || f.startsWith(`${c.field}[`)),
      ).toBe(true);
    },
  );
});
