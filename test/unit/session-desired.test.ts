import { describe, expect, it } from 'vitest';
import { activityInterval } from '../../api-shim/src/sessions/exec.ts';
import type { LiveProject, LiveSession } from '../../operator/src/api/v1alpha1/index.ts';
import { project as projectSchema } from '../../operator/src/api/v1alpha1/index.ts';
import { loadConfig } from '../../operator/src/config.ts';
import { checkCredentials, desiredPod } from '../../operator/src/controllers/project/desired.ts';
import {
  deadline,
  desiredDedicatedPod,
  desiredPreviewIngress,
  mayHaveDedicatedPod,
  previewHost,
  previewURL,
  workspaceTemplate,
} from '../../operator/src/controllers/session/desired.ts';
import type { KubeObject } from '../../operator/src/runtime/client.ts';

const session = (spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}, name = 'fix') =>
  ({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Session',
    metadata: { name, namespace: 'team', uid: 'uid-s', creationTimestamp: '2026-11-24T10:00:00Z' },
    spec: { projectRef: { name: 'shop' }, dedicated: false, ttl: '2h', idleTimeout: '30m', ...spec },
    status,
  }) as unknown as LiveSession;

const T = '2026-11-24T09:00:00Z';
const config = loadConfig([], {});

function project(status: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): LiveProject {
  return {
    ...projectSchema.parse({
      apiVersion: 'rdev.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: 'shop', namespace: 'team', uid: 'uid-p', generation: 1 },
      spec: { agent: { credentialsSecretRef: { name: 'anthropic' } }, ...spec },
    }),
    status,
  } as LiveProject;
}

type PodSpec = {
  containers: { env: unknown[]; envFrom?: unknown[] }[];
  securityContext: unknown;
  volumes: Record<string, unknown>[];
};

describe('a Session', () => {
  it('ends at the earlier of its TTL and idleTimeout after the last activity', () => {
    expect(deadline(session())).toEqual({ at: new Date('2026-11-24T10:30:00Z'), why: 'idle' });
    expect(deadline(session({}, { lastActivityAt: '2026-11-24T11:45:00Z' }))).toEqual({
      at: new Date('2026-11-24T12:00:00Z'),
      why: 'ttl',
    });
    expect(deadline(session({}, { lastActivityAt: '2026-11-24T11:00:00Z' })).at).toEqual(
      new Date('2026-11-24T11:30:00Z'),
    );
  });

  it('previews on one DNS label per namespace, session and project, stable and at most 63 long', () => {
    const inNamespace = (s: ReturnType<typeof session>, namespace: string) => ({
      ...s,
      metadata: { ...s.metadata, namespace },
    });
    // The default namespace keeps <session>-<project>; others add a hash that includes the namespace.
    expect(previewHost(inNamespace(session(), 'default'), 'p.dev')).toBe('fix-shop.p.dev');
    const team = previewHost(session(), 'p.dev');
    expect(team).toMatch(/^fix-shop-[0-9a-f]{6}\.p\.dev$/);
    expect(previewHost(session(), 'p.dev')).toBe(team);
    expect(previewHost(inNamespace(session(), 'other'), 'p.dev')).not.toBe(team);
    // "x-a" of project "b" and "x" of project "a-b" in one namespace do not meet either.
    const xa = previewHost(
      { ...session({}, {}, 'x-a'), spec: { ...session().spec, projectRef: { name: 'b' } } },
      'p.dev',
    );
    const x = previewHost(
      { ...session({}, {}, 'x'), spec: { ...session().spec, projectRef: { name: 'a-b' } } },
      'p.dev',
    );
    expect(xa).not.toBe(x);
    const longest = inNamespace(session({}, {}, 'x'.repeat(63)), 'n'.repeat(63));
    expect(previewHost(longest, 'p.dev').split('.')[0]?.length).toBeLessThanOrEqual(63);
  });

  it('previews on one DNS label under the preview domain, https with a TLS Secret', () => {
    expect(previewHost(session(), 'preview.example.dev')).toMatch(
      /^fix-shop-[0-9a-f]{6}\.preview\.example\.dev$/,
    );
    const long = session({}, {}, 'x'.repeat(60));
    expect(previewHost(long, 'p.dev').split('.')[0]?.length).toBeLessThanOrEqual(63);
    expect(previewURL(session(), { domain: 'p.dev', tlsSecret: 'wildcard', dnsRecords: false })).toBe(
      `https://${previewHost(session(), 'p.dev')}`,
    );
    expect(previewURL(session(), { dnsRecords: false })).toBeUndefined();
    const ingress = desiredPreviewIngress(
      session(),
      loadConfig(['--preview-domain=p.dev', '--preview-tls-secret=wc'], {}).preview,
    );
    expect(ingress?.spec).toMatchObject({
      tls: [{ hosts: [previewHost(session(), 'p.dev')], secretName: 'wc' }],
    });
    expect(desiredPreviewIngress(session(), { dnsRecords: false })).toBeUndefined();
  });

  it("builds a dedicated Session's Pod from the Project's workspace template", () => {
    const template = desiredPod(project(), config, checkCredentials(project(), ['ANTHROPIC_API_KEY']));
    if (!template) throw new Error('the workspace template should exist');
    const pod = desiredDedicatedPod(session({ dedicated: true }), template) as KubeObject & { spec: PodSpec };
    expect(pod.metadata.name).toBe('fix-session');
    expect(pod.metadata.labels).toMatchObject({ 'rdev.dev/session': 'fix' });
    // Its Project's label puts it under the Project's NetworkPolicy; the Project's Service selects
    // the workspace Pod by more labels than that, so not this one.
    expect(pod.metadata.labels).toMatchObject({ 'rdev.dev/project': 'shop' });
    expect(pod.metadata.labels?.['app.kubernetes.io/name']).not.toBe('rdev-workspace');
    expect(pod.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Session', name: 'fix', uid: 'uid-s', controller: true }),
    ]);
    // The Project's image, env and security; a scratch volume of its own instead of the Project's.
    const spec = (template as KubeObject & { spec: PodSpec }).spec;
    expect(pod.spec.containers).toEqual(spec.containers);
    expect(pod.spec.securityContext).toEqual(spec.securityContext);
    expect(pod.spec.volumes).toEqual([
      { name: 'workspace', emptyDir: {} },
      { name: 'tmp', emptyDir: {} },
    ]);
    expect(spec.volumes[0]).toMatchObject({ persistentVolumeClaim: { claimName: 'shop-workspace' } }); // not modified
  });

  it("gives the template the Secrets of the Project's ready database and cache", () => {
    const ready = (type: string, status = 'True') => ({
      type,
      status,
      reason: 'R',
      message: '',
      lastTransitionTime: T,
    });
    const withExternals = project({
      database: { secretName: 'shop-database', passwordRotation: 'r1' },
      cache: { secretName: 'shop-cache' },
      conditions: [ready('DatabaseReady'), ready('CacheReady', 'False')],
    });
    const template = workspaceTemplate(withExternals, config, ['ANTHROPIC_API_KEY']) as KubeObject & {
      spec: PodSpec;
    };
    expect(template.spec.containers[0]?.envFrom).toEqual([{ secretRef: { name: 'shop-database' } }]);
    expect(template.metadata.annotations).toMatchObject({ 'rdev.dev/credentials-version': 'r1/' });
    expect(template.spec.containers[0]?.env).toContainEqual({
      name: 'ANTHROPIC_API_KEY',
      valueFrom: { secretKeyRef: { name: 'anthropic', key: 'ANTHROPIC_API_KEY' } },
    });
  });

  it('has no template while the Project is suspended or its credentials are unusable', () => {
    expect(workspaceTemplate(project({}, { suspend: true }), config, ['ANTHROPIC_API_KEY'])).toBeUndefined();
    expect(workspaceTemplate(project(), config, undefined)).toBeUndefined();
    expect(workspaceTemplate(project(), config, ['OTHER'])).toBeUndefined();
  });
});

describe('a command in a Session', () => {
  it('records activity while it runs, often enough to outlast the idle timeout', () => {
    expect(activityInterval('1m')).toBe(30_000);
    expect(activityInterval('30m')).toBe(60_000);
  });
});

describe('the quota of dedicated Session Pods', () => {
  const sibling = (name: string, created: string, hasPod: boolean) => ({ name, created, hasPod });
  const siblings = [
    sibling('a', '2026-01-01T00:00:00Z', true),
    sibling('c', '2026-01-01T00:00:02Z', false),
    sibling('b', '2026-01-01T00:00:02Z', false),
    sibling('d', '2026-01-01T00:00:01Z', false),
  ];

  it('lets the oldest waiting Sessions have the free places, by name on a tie', () => {
    expect(['a', 'b', 'c', 'd'].filter((n) => mayHaveDedicatedPod(n, siblings, 3))).toEqual(['a', 'b', 'd']);
    expect(['a', 'b', 'c', 'd'].filter((n) => mayHaveDedicatedPod(n, siblings, 2))).toEqual(['a', 'd']);
  });

  it('never takes a Pod away, even above the quota', () => {
    const full = siblings.map((s) => ({ ...s, hasPod: true }));
    expect(['a', 'b', 'c', 'd'].every((n) => mayHaveDedicatedPod(n, full, 1))).toBe(true);
    expect(mayHaveDedicatedPod('e', [...full, sibling('e', '2025-01-01T00:00:00Z', false)], 4)).toBe(false);
  });

  it('has no limit at 0', () => {
    expect(mayHaveDedicatedPod('c', siblings, 0)).toBe(true);
  });
});
