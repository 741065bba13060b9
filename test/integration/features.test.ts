// Features against the real Gitea, the local plane and the test agent (test/agent/rdev-test-agent,
// which follows a Feature's prompt: writes the artifact asked for, ticks its task off, records a
// verdict — rejecting once when the description says so): a Feature goes from draft to released,
// one WorkItem per action, its artifacts committed on feature/<name> and its pull request merged;
// a human policy stops it until a human approves the digest; dependsOn holds it Blocked; and an
// operator SIGKILLed mid-lifecycle never runs an action twice.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURES, PROJECTS, WORK_ITEMS } from '../../operator/src/api/resources.ts';
import type { LiveFeature, LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { FEATURE_PHASES } from '../../operator/src/api/v1alpha1/index.ts';
import { ACTION_LABEL } from '../../operator/src/controllers/feature/reconcile.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import { PROJECT_SPEC, ROOT } from '../support/manifests.ts';
import { giteaAdmin, giteaServer, useGiteaOrg } from './support/gitea.ts';
import { createAgentSecret, createSecret, eventually, kubeConfig } from './support/kube.ts';
import { useOperatorNamespace, useOperatorProcess } from './support/operator.ts';
import { conditionOf, rdevKind } from './support/rdev-objects.ts';
import { spawnWorker } from './support/worker.ts';

const gitea = giteaServer();
const api = giteaAdmin();
const client = new KubeClient(kubeConfig());
const AGENT = join(ROOT, 'test', 'agent', 'rdev-test-agent');

const operatorArgs = (namespace: string) => [
  `--gitea-url=${gitea.url}`,
  `--gitea-secret=${namespace}/gitea`,
  `--gitea-organization=${org.name}`,
  `--worker-namespace=${namespace}`,
  '--checkout-poll-seconds=1',
];
const operator = useOperatorProcess(() => ns.name, operatorArgs);
const ns = useOperatorNamespace('rdev-feat', operatorArgs);
const org = useGiteaOrg('rdev-feat');
const projects = rdevKind<LiveProject>(client, PROJECTS, ns, { spec: PROJECT_SPEC });
const features = rdevKind<LiveFeature>(client, FEATURES, ns, { spec: { projectRef: { name: 'shop' } } });

beforeAll(async () => {
  await createAgentSecret(ns.name);
  await createSecret(ns.name, 'gitea', { GITEA_TOKEN: gitea.adminToken });
  await projects.create('shop', { runners: { warm: 2 } });
  await projects.phase('shop', 'Ready', 120_000);
  spawnWorker(ns.name, 'w1', ['--capacity=4', `--agent-command=${AGENT}`]);
});

const repo = async () => {
  const [owner = '', name = ''] = ((await projects.get('shop')).status?.repo?.fullName ?? '').split('/');
  return { owner, name };
};

/** The WorkItems a Feature started, oldest first. */
const itemsOf = async (feature: string) =>
  (
    await client.list<LiveWorkItem>(WORK_ITEMS, ns.name, { labelSelector: `rdev.dev/feature=${feature}` })
  ).items.sort(
    (a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? ''),
  );

/** Waits for the Feature to reach `phase` (or pass it). */
const reached = (name: string, phase: string, timeoutMs = 180_000) =>
  eventually(
    async () => {
      const f = await features.get(name);
      const at = FEATURE_PHASES.indexOf(f.status?.phase ?? 'draft');
      return at >= FEATURE_PHASES.indexOf(phase as (typeof FEATURE_PHASES)[number]) ? f : undefined;
    },
    { timeoutMs },
  );

/** Merges the Feature's pull request once the merge phase opened it. */
async function mergeWhenOpen(name: string): Promise<number> {
  const withPr = await eventually(async () => (await features.get(name)).status?.pullRequest, {
    timeoutMs: 180_000,
  });
  const { owner, name: repoName } = await repo();
  // Gitea checks mergeability in the background: until then a merge answers 405, try again.
  await eventually(async () => {
    await api.repos.repoMergePullRequest(owner, repoName, withPr.number, { Do: 'merge' });
    return true;
  });
  return withPr.number;
}

describe('a Feature', () => {
  it('goes from draft to released: one WorkItem per action, artifacts in git, a merged pull request', {
    timeout: 300_000,
  }, async () => {
    await features.create('login', { title: 'Log in with a passkey', description: 'reject review once' });
    await features.create('after', { title: 'Remember the device', dependsOn: ['login'] });
    // Held until login is released.
    const blocked = await eventually(async () => {
      const f = await features.get('after');
      return conditionOf(f, 'Blocked')?.status === 'True' ? f : undefined;
    });
    expect(blocked.status?.nextAction).toMatchObject({ action: 'wait_for_dependencies', gate: 'blocked' });
    expect(await itemsOf('after')).toEqual([]);

    const pr = await mergeWhenOpen('login');
    const released = await reached('login', 'released');
    expect(conditionOf(released, 'Released')?.status).toBe('True');
    expect(released.status?.phaseHistory?.map((h) => h.phase)).toEqual([...FEATURE_PHASES]);
    expect(released.status?.pullRequest).toMatchObject({ number: pr, merged: true });

    // One WorkItem per action; the review was rejected once, fixed, and approved. (Creation
    // times have a resolution of a second: the actions are compared as a sorted list.)
    const items = await itemsOf('login');
    const actions = items.map((i) => i.metadata.labels?.[ACTION_LABEL]).sort();
    expect(actions).toEqual(
      [
        'create_spec',
        'approve_spec',
        'create_design',
        'approve_design',
        'create_tasks',
        'approve_tasks',
        'create_qa_plan',
        'approve_qa_plan',
        'implement_task',
        'implement_task',
        'create_review',
        'approve_review',
        'fix_review_issues',
        'approve_review',
        'create_audit',
        'approve_audit',
        'run_qa',
        'approve_merge',
      ].sort(),
    );
    expect(items.every((i) => i.status?.phase === 'Succeeded' && i.status.attempts === 1)).toBe(true);
    expect(new Set(items.map((i) => i.spec.idempotencyKey)).size).toBe(items.length);
    const first = items.find((i) => i.metadata.labels?.[ACTION_LABEL] === 'create_spec');
    expect(first?.spec.prompt?.split('\n')[0]).toBe('/sdlc-create-spec login');

    // The artifacts are on the Feature's branch, and in the base branch after the merge.
    const { owner, name } = await repo();
    const listed = (await api.repos.repoGetContents(owner, name, '.sdlc/features/login', { ref: 'main' }))
      .data;
    const files = (Array.isArray(listed) ? listed : []).map((f) => f.name).sort();
    expect(files).toEqual([
      'approvals.yaml',
      'audit.md',
      'design.md',
      'qa-plan.md',
      'qa-results.md',
      'review.md',
      'spec.md',
      'tasks.md',
    ]);
    expect(
      released.status?.artifacts?.every((a) => a.digest && a.path.startsWith('.sdlc/features/login/')),
    ).toBe(true);
    const pulled = (await api.repos.repoGetPullRequest(owner, name, pr)).data;
    expect(pulled.head?.ref).toBe('feature/login');
    expect(pulled.merged).toBe(true);

    // Released, login frees the Feature that depends on it.
    await eventually(async () => ((await itemsOf('after')).length > 0 ? true : undefined));
    await eventually(
      async () => conditionOf(await features.get('after'), 'Blocked')?.status === 'False' || undefined,
    );
    await features.delete('after');
  });

  it('stops for a human where the policy says so, until the digest seen is approved', {
    timeout: 180_000,
  }, async () => {
    await features.create('audited', { title: 'Export invoices', approvalPolicy: { spec: 'human' } });
    const waiting = await eventually(async () => {
      const f = await features.get('audited');
      return conditionOf(f, 'AwaitingApproval')?.status === 'True' ? f : undefined;
    });
    expect(conditionOf(waiting, 'AwaitingApproval')?.reason).toBe('AwaitingApproval');
    expect(waiting.status?.phase).toBe('draft');
    const spec = waiting.status?.artifacts?.find((a) => a.type === 'spec');
    expect(spec?.status).toBe('draft');
    // Only the writer ran: nobody judged the spec.
    expect((await itemsOf('audited')).map((i) => i.metadata.labels?.[ACTION_LABEL])).toEqual(['create_spec']);

    // An approval of another version changes nothing.
    await features.patchSpec('audited', {
      approvals: [{ artifact: 'spec', digest: 'f'.repeat(40), by: 'ann' }],
    });
    await new Promise((r) => setTimeout(r, 2000));
    expect((await features.get('audited')).status?.phase).toBe('draft');

    await features.patchSpec('audited', {
      approvals: [{ artifact: 'spec', digest: spec?.digest, by: 'ann' }],
    });
    await reached('audited', 'specified');
    await eventually(
      async () =>
        conditionOf(await features.get('audited'), 'AwaitingApproval')?.status === 'False' || undefined,
    );
    await features.patchSpec('audited', { paused: true });
  });
});

describe('the operator SIGKILLed mid-lifecycle', () => {
  it('never runs an action twice', { timeout: 300_000 }, async () => {
    await ns.stopOperator();
    operator.restart();
    await features.create('crashy', { title: 'Survive crashes' });
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 3000 + i * 1500));
      operator.restart();
    }
    await mergeWhenOpen('crashy');
    const released = await reached('crashy', 'released', 240_000);
    expect(released.status?.phaseHistory?.map((h) => h.phase)).toEqual([...FEATURE_PHASES]);
    const items = await itemsOf('crashy');
    const ran = items.map(
      (i) => `${i.metadata.labels?.[ACTION_LABEL]} ${i.spec.idempotencyKey} ${i.status?.phase}`,
    );
    expect(items, ran.join('\n')).toHaveLength(16);
    expect(items.every((i) => i.status?.attempts === 1)).toBe(true);
    const runs = items.map((i) => `${i.metadata.labels?.[ACTION_LABEL]}#${i.spec.idempotencyKey}`);
    expect(new Set(runs).size).toBe(runs.length);
  });
});
