import { describe, expect, it } from 'vitest';
import { parseProject, parseWorkItem } from '../../operator/src/api/v1alpha1/index.ts';
import { loadConfig } from '../../operator/src/config.ts';
import { runsInCI } from '../../operator/src/controllers/runner/claim.ts';
import { claimPatch, desiredRunnerPod, RUNNER_HOME } from '../../operator/src/controllers/runner/desired.ts';
import { coldRunnerName, labelValue, warmRunnerName } from '../../operator/src/controllers/runner/names.ts';
import { attemptOver, pickIdle, planPool, warmTarget } from '../../operator/src/controllers/runner/status.ts';
import { workspaceTemplate } from '../../operator/src/controllers/session/desired.ts';
import type { Pod } from '../../operator/src/runtime/resources.ts';

const config = loadConfig([], {});
const NOW = new Date('2026-11-29T12:00:00Z');
const IDLE_MS = 30 * 60_000;

const project = (spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}) =>
  parseProject({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: 'shop', namespace: 'team', uid: 'uid-p', generation: 1 },
    spec: { agent: { credentialsSecretRef: { name: 'anthropic' } }, ...spec },
    status,
  });

const item = (
  name: string,
  status: Record<string, unknown> = {},
  created = '2026-11-29T11:50:00Z',
  spec = {},
) =>
  parseWorkItem({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'WorkItem',
    metadata: { name, namespace: 'team', uid: `uid-${name}`, creationTimestamp: created },
    spec: { projectRef: { name: 'shop' }, type: 'shell', command: ['true'], ...spec },
    status,
  });

const pod = (
  name: string,
  opts: { ready?: boolean; phase?: string; labels?: Record<string, string>; deleting?: boolean } = {},
): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'team',
    uid: `uid-${name}`,
    resourceVersion: '7',
    labels: { 'rdev.dev/role': 'runner', 'rdev.dev/project': 'shop', ...opts.labels },
    ...(opts.deleting ? { deletionTimestamp: '2026-11-29T11:59:00Z' } : {}),
  },
  status: {
    phase: opts.phase ?? (opts.ready === false ? 'Pending' : 'Running'),
    conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
  },
});

const template = () => {
  const t = workspaceTemplate(project(), config, ['ANTHROPIC_API_KEY']);
  if (!t) throw new Error('the Project can run');
  return t;
};

describe('a runner Pod', () => {
  const warm = desiredRunnerPod(project(), template(), 'shop-runner-ab12cd34');

  it('is the workspace Pod without its volume, token, restarts or preview port', () => {
    const spec = warm.spec;
    expect(spec?.automountServiceAccountToken).toBe(false);
    expect(spec?.serviceAccountName).toBe('shop-workspace');
    expect(spec?.restartPolicy).toBe('Never');
    expect(spec?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const [container] = spec?.containers ?? [];
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container?.ports).toBeUndefined();
    expect(spec?.volumes).toContainEqual({ name: 'workspace', emptyDir: {} });
    expect(spec?.volumes).toContainEqual({ name: 'home', emptyDir: {} });
    expect(spec?.volumes?.some((v) => v.persistentVolumeClaim)).toBe(false);
    expect(container?.env).toContainEqual({ name: 'HOME', value: RUNNER_HOME });
    expect(container?.volumeMounts).toContainEqual({ name: 'home', mountPath: RUNNER_HOME });
  });

  it("carries the Project's env and credentials by reference, and nothing of another Project", () => {
    const env = warm.spec?.containers[0]?.env ?? [];
    expect(env).toContainEqual({ name: 'RDEV_PROJECT', value: 'shop' });
    expect(env).toContainEqual({
      name: 'ANTHROPIC_API_KEY',
      valueFrom: { secretKeyRef: { name: 'anthropic', key: 'ANTHROPIC_API_KEY' } },
    });
    expect(JSON.stringify(env)).not.toContain('other');
  });

  it("has the Project's labels (its NetworkPolicy) and the runner role; warm, the Project owns it", () => {
    expect(warm.metadata?.labels).toMatchObject({
      'rdev.dev/project': 'shop',
      'rdev.dev/role': 'runner',
      'app.kubernetes.io/component': 'runner',
    });
    expect(warm.metadata?.labels?.['rdev.dev/work-item']).toBeUndefined();
    expect(warm.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Project', uid: 'uid-p', controller: true }),
    ]);
  });

  it('made for an attempt (the cold path), belongs to its WorkItem and names it', () => {
    const cold = desiredRunnerPod(project(), template(), coldRunnerName('fix', 2), {
      item: item('fix'),
      attempt: 2,
    });
    expect(cold.metadata?.name).toBe('fix-runner-2');
    expect(cold.metadata?.labels).toMatchObject({ 'rdev.dev/work-item': 'fix', 'rdev.dev/attempt': '2' });
    expect(cold.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'WorkItem', name: 'fix', uid: 'uid-fix', controller: true }),
    ]);
  });

  it('is claimed by a compare-and-swap patch that hands it to the WorkItem alone', () => {
    const patch = claimPatch(pod('shop-runner-1'), { item: item('fix'), attempt: 1 });
    expect(patch.metadata.resourceVersion).toBe('7');
    expect(patch.metadata.labels).toEqual({ 'rdev.dev/work-item': 'fix', 'rdev.dev/attempt': '1' });
    expect(patch.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'WorkItem',
        uid: 'uid-fix',
        controller: true,
        blockOwnerDeletion: true,
      }),
    ]);
  });

  it('has bounded names: a label value fits 63 characters, a cold name is the same on every try', () => {
    expect(labelValue('a'.repeat(120)).length).toBeLessThanOrEqual(63);
    expect(labelValue('a'.repeat(120))).not.toBe(labelValue(`${'a'.repeat(119)}b`));
    expect(coldRunnerName('fix', 1)).toBe(coldRunnerName('fix', 1));
    expect(warmRunnerName('shop', 'x1')).toBe('shop-runner-x1');
  });
});

describe('the warm pool', () => {
  const input = (over: Partial<Parameters<typeof planPool>[0]> = {}) => ({
    project: project(),
    runnable: true,
    idle: [] as Pod[],
    items: [] as Parameters<typeof planPool>[0]['items'],
    pending: 0,
    now: NOW,
    idleMs: IDLE_MS,
    ...over,
  });

  it('is spec.runners.warm when set', () => {
    expect(
      warmTarget({ project: project({ runners: { warm: 3 } }), items: [], now: NOW, idleMs: IDLE_MS }),
    ).toEqual({ size: 3 });
    expect(planPool(input({ project: project({ runners: { warm: 2 } }) })).create).toBe(2);
  });

  it('defaults to one while the Project had a WorkItem within --runner-idle, then none', () => {
    const recent = [{ item: item('a', {}, '2026-11-29T11:50:00Z'), runners: [] }];
    expect(warmTarget({ project: project(), items: recent, now: NOW, idleMs: IDLE_MS })).toEqual({
      size: 1,
      changesInMs: 20 * 60_000,
    });
    const old = [{ item: item('a', {}, '2026-11-29T11:00:00Z'), runners: [] }];
    expect(warmTarget({ project: project(), items: old, now: NOW, idleMs: IDLE_MS })).toEqual({ size: 0 });
    expect(warmTarget({ project: project(), items: [], now: NOW, idleMs: IDLE_MS })).toEqual({ size: 0 });
  });

  it('counts creates in flight, and never removes a runner because of them', () => {
    const plan = planPool(
      input({ project: project({ runners: { warm: 2 } }), idle: [pod('r1')], pending: 1 }),
    );
    expect(plan.create).toBe(0);
    expect(plan.remove).toEqual([]);
  });

  it('removes the surplus, starting runners first', () => {
    const plan = planPool(
      input({
        project: project({ runners: { warm: 1 } }),
        idle: [pod('ready'), pod('starting', { ready: false })],
      }),
    );
    expect(plan.remove.map((p) => p.metadata.name)).toEqual(['starting']);
    expect(plan.status).toEqual({ warm: 1, busy: 0 });
  });

  it('keeps no runner for a Project that cannot run Pods (suspended, credentials missing)', () => {
    const plan = planPool(
      input({ project: project({ runners: { warm: 2 } }), runnable: false, idle: [pod('r1')] }),
    );
    expect(plan.create).toBe(0);
    expect(plan.remove.map((p) => p.metadata.name)).toEqual(['r1']);
  });

  it('replaces a runner that ended (never reused), and skips one being deleted', () => {
    const plan = planPool(
      input({
        project: project({ runners: { warm: 1 } }),
        idle: [pod('ended', { phase: 'Failed' }), pod('going', { deleting: true })],
      }),
    );
    expect(plan.remove.map((p) => p.metadata.name)).toEqual(['ended']);
    expect(plan.create).toBe(1);
  });

  it('deletes a claimed runner once its attempt is over, and counts the others busy', () => {
    const claimed = (name: string, attempt: number) =>
      pod(name, { labels: { 'rdev.dev/work-item': 'x', 'rdev.dev/attempt': String(attempt) } });
    const plan = planPool(
      input({
        items: [
          { item: item('running', { phase: 'Running', attempts: 1 }), runners: [claimed('r-run', 1)] },
          { item: item('done', { phase: 'Succeeded', attempts: 1 }), runners: [claimed('r-done', 1)] },
          { item: item('retry', { phase: 'Queued', attempts: 1 }), runners: [claimed('r-retry', 1)] },
          // Claimed for the next attempt, not yet bound (the binding write may be in flight).
          { item: item('next', { phase: 'Queued', attempts: 1 }), runners: [claimed('r-next', 2)] },
        ],
      }),
    );
    expect(plan.remove.map((p) => p.metadata.name).sort()).toEqual(['r-done', 'r-retry']);
    expect(plan.status.busy).toBe(2);
  });

  it('lets an attempt claim only a Ready, unclaimed runner not promised to another claim', () => {
    const idle = [
      pod('starting', { ready: false }),
      pod('claimed', { labels: { 'rdev.dev/work-item': 'x' } }),
      pod('promised'),
      pod('free'),
    ];
    expect(pickIdle(idle, new Set(['promised']))?.metadata.name).toBe('free');
    expect(pickIdle(idle, new Set(['promised', 'free']))).toBeUndefined();
  });

  it('tells an attempt that is over from one that is not', () => {
    const runner = pod('r', { labels: { 'rdev.dev/attempt': '2' } });
    expect(attemptOver(item('a', { phase: 'Running', attempts: 2 }), runner)).toBe(false);
    expect(attemptOver(item('a', { phase: 'Queued', attempts: 1 }), runner)).toBe(false);
    expect(attemptOver(item('a', { phase: 'Queued', attempts: 2 }), runner)).toBe(true);
    expect(attemptOver(item('a', { phase: 'Scheduled', attempts: 3 }), runner)).toBe(true);
    expect(attemptOver(item('a', { phase: 'Failed', attempts: 2 }), runner)).toBe(true);
  });

  it('sends pipeline items to CI, everything else to a Pod', () => {
    const withCI = project({}, { ci: { repoId: 4 } });
    expect(runsInCI(item('b', {}, undefined, { type: 'build', command: undefined }), withCI)).toBe(true);
    expect(runsInCI(item('b', {}, undefined, { type: 'build' }), withCI)).toBe(false);
    expect(runsInCI(item('b', {}, undefined, { type: 'build', command: undefined }), project())).toBe(false);
    expect(runsInCI(item('s'), withCI)).toBe(false);
  });
});
