// The Feature lifecycle's classifier: one case per rule, in the order of the table; the guards
// (forward only, required artifacts); the human gates of the policy and of the fix-cycle cap; and
// the pieces an action is built from (its key, name and prompt), and what the branch says.
import { describe, expect, it } from 'vitest';
import type {
  ArtifactStatus,
  ArtifactType,
  FeaturePhase,
  LiveFeature,
} from '../../operator/src/api/v1alpha1/index.ts';
import {
  actionKey,
  commandOf,
  promptFor,
  timeoutOf,
  workItemName,
} from '../../operator/src/controllers/feature/action.ts';
import {
  artifactViews,
  parseTasks,
  parseVerdicts,
} from '../../operator/src/controllers/feature/artifacts.ts';
import {
  canTransition,
  classify,
  type FeatureState,
  noArtifacts,
  RULES,
  type Task,
} from '../../operator/src/controllers/feature/classify.ts';

const AGENT: FeatureState['policy'] = {
  spec: 'agent',
  design: 'agent',
  tasks: 'agent',
  qa_plan: 'agent',
  review: 'agent',
  audit: 'agent',
  qa_results: 'agent',
};

function state(
  phase: FeaturePhase,
  artifacts: Partial<Record<ArtifactType, ArtifactStatus>> = {},
  more: Partial<FeatureState> = {},
): FeatureState {
  return {
    phase,
    artifacts: { ...noArtifacts(), ...artifacts },
    tasks: [],
    policy: AGENT,
    fixCycles: 0,
    maxFixCycles: 3,
    waitingFor: [],
    merged: false,
    ...more,
  };
}

const PLANNED = { spec: 'approved', design: 'approved', tasks: 'approved', qa_plan: 'approved' } as const;
const done: Task = { id: 'T1', title: 'one', status: 'completed' };
const open: Task = { id: 'T2', title: 'two', status: 'pending' };

/** Each rule of the table, with a state it alone should match first, and what it answers. */
const ROWS: [string, FeatureState, Partial<ReturnType<typeof classify>>][] = [
  ['released/done', state('released', PLANNED), { action: 'done' }],
  [
    'blocked/dependencies',
    state('draft', {}, { waitingFor: ['other'] }),
    { action: 'wait_for_dependencies', gate: 'blocked' },
  ],
  ['draft/spec-to-write', state('draft'), { action: 'create_spec', artifact: 'spec' }],
  ['draft/spec-to-write', state('draft', { spec: 'rejected' }), { action: 'create_spec' }],
  ['draft/spec-to-judge', state('draft', { spec: 'draft' }), { action: 'approve_spec', artifact: 'spec' }],
  [
    'draft/spec-satisfied',
    state('draft', { spec: 'approved' }),
    { action: 'transition', transitionTo: 'specified' },
  ],
  ['draft/spec-satisfied', state('draft', { spec: 'waived' }), { transitionTo: 'specified' }],
  ['specified/design-to-write', state('specified', { spec: 'approved' }), { action: 'create_design' }],
  [
    'specified/design-to-judge',
    state('specified', { spec: 'approved', design: 'draft' }),
    { action: 'approve_design' },
  ],
  [
    'specified/tasks-to-write',
    state('specified', { spec: 'approved', design: 'approved' }),
    { action: 'create_tasks' },
  ],
  [
    'specified/tasks-to-judge',
    state('specified', { spec: 'approved', design: 'approved', tasks: 'needs_fix' }),
    { action: 'approve_tasks' },
  ],
  [
    'specified/qa_plan-to-write',
    state('specified', { spec: 'approved', design: 'approved', tasks: 'approved' }),
    { action: 'create_qa_plan' },
  ],
  [
    'specified/qa_plan-to-judge',
    state('specified', { spec: 'approved', design: 'approved', tasks: 'approved', qa_plan: 'draft' }),
    { action: 'approve_qa_plan' },
  ],
  [
    'specified/plan-satisfied',
    state('specified', PLANNED),
    { action: 'transition', transitionTo: 'planned' },
  ],
  ['planned/ready', state('planned', PLANNED), { transitionTo: 'ready' }],
  ['ready/implementation', state('ready', PLANNED), { transitionTo: 'implementation' }],
  [
    'implementation/open-task',
    state('implementation', PLANNED, { tasks: [done, open] }),
    { action: 'implement_task', taskId: 'T2' },
  ],
  [
    'implementation/review-to-write',
    state('implementation', PLANNED, { tasks: [done] }),
    { action: 'create_review' },
  ],
  [
    'implementation/review-to-judge',
    state('implementation', { ...PLANNED, review: 'draft' }),
    { action: 'approve_review' },
  ],
  [
    'implementation/review-rejected',
    state('implementation', { ...PLANNED, review: 'rejected' }),
    { action: 'fix_review_issues', artifact: 'review' },
  ],
  [
    'implementation/review-satisfied',
    state('implementation', { ...PLANNED, review: 'approved' }),
    { transitionTo: 'review' },
  ],
  ['review/review-to-judge', state('review', { ...PLANNED, review: 'draft' }), { action: 'approve_review' }],
  [
    'review/review-rejected',
    state('review', { ...PLANNED, review: 'rejected' }),
    { action: 'fix_review_issues' },
  ],
  ['review/review-satisfied', state('review', { ...PLANNED, review: 'approved' }), { transitionTo: 'audit' }],
  ['audit/audit-to-write', state('audit', { review: 'approved' }), { action: 'create_audit' }],
  [
    'audit/audit-to-judge',
    state('audit', { review: 'approved', audit: 'draft' }),
    { action: 'approve_audit' },
  ],
  ['audit/audit-satisfied', state('audit', { review: 'approved', audit: 'waived' }), { transitionTo: 'qa' }],
  ['qa/results-to-write', state('qa', { audit: 'approved' }), { action: 'run_qa', artifact: 'qa_results' }],
  [
    'qa/results-to-judge',
    state('qa', { audit: 'approved', qa_results: 'draft' }),
    { action: 'approve_merge' },
  ],
  [
    'qa/results-failed',
    state('qa', { audit: 'approved', qa_results: 'failed' }),
    { action: 'fix_review_issues', artifact: 'qa_results' },
  ],
  ['qa/results-passed', state('qa', { audit: 'approved', qa_results: 'passed' }), { transitionTo: 'merge' }],
  ['merge/merged', state('merge', { qa_results: 'passed' }, { merged: true }), { transitionTo: 'released' }],
  ['merge/open', state('merge', { qa_results: 'passed' }), { action: 'merge' }],
];

describe('the classifier', () => {
  it.each(ROWS)('%s', (rule, s, expected) => {
    expect(classify(s)).toMatchObject({ rule, ...expected });
  });

  it('has a case above for every rule', () => {
    expect(new Set(ROWS.map(([rule]) => rule))).toEqual(new Set(RULES.map((r) => r.id)));
  });

  it('falls back to a human gate when nothing matches (QA results waived)', () => {
    expect(classify(state('qa', { audit: 'approved', qa_results: 'waived' }))).toMatchObject({
      rule: 'fallback',
      gate: 'human',
      reason: 'NoRuleMatches',
    });
  });

  it('lets a human approve where the policy says so: no agent judges', () => {
    const human = classify(state('draft', { spec: 'draft' }, { policy: { ...AGENT, spec: 'human' } }));
    expect(human).toMatchObject({
      action: 'wait_for_approval',
      gate: 'human',
      reason: 'AwaitingApproval',
      artifact: 'spec',
    });
    // Writing is still an agent's job.
    expect(classify(state('draft', {}, { policy: { ...AGENT, spec: 'human' } })).action).toBe('create_spec');
  });

  it('turns a fix cycle past spec.maxFixCycles into a human gate', () => {
    const rejected = { ...PLANNED, review: 'rejected' } as const;
    expect(classify(state('review', rejected, { fixCycles: 2, maxFixCycles: 3 })).action).toBe(
      'fix_review_issues',
    );
    expect(classify(state('review', rejected, { fixCycles: 3, maxFixCycles: 3 }))).toMatchObject({
      gate: 'human',
      reason: 'FixCyclesExhausted',
    });
    expect(
      classify(state('qa', { audit: 'approved', qa_results: 'failed' }, { maxFixCycles: 0 })).reason,
    ).toBe('FixCyclesExhausted');
  });
});

describe('the guards', () => {
  it('only ever go forward', () => {
    expect(canTransition('review', 'implementation', { ...noArtifacts(), ...PLANNED })).toBe(false);
    expect(canTransition('review', 'review', { ...noArtifacts(), review: 'approved' })).toBe(false);
  });

  it('need what the target phase requires satisfied', () => {
    expect(
      canTransition('specified', 'planned', { ...noArtifacts(), spec: 'approved', design: 'approved' }),
    ).toBe(false);
    expect(canTransition('specified', 'planned', { ...noArtifacts(), ...PLANNED })).toBe(true);
    expect(canTransition('qa', 'merge', { ...noArtifacts(), qa_results: 'draft' })).toBe(false);
    expect(canTransition('qa', 'merge', { ...noArtifacts(), qa_results: 'passed' })).toBe(true);
  });

  it('refuse a rule whose transition would skip a requirement, as a human gate', () => {
    // planned without its plan (the artifacts vanished from the branch): no way forward.
    expect(classify(state('planned', { spec: 'approved' }))).toMatchObject({
      gate: 'human',
      reason: 'TransitionRefused',
    });
  });
});

const feature = (name = 'login', generation = 3): LiveFeature =>
  ({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Feature',
    metadata: { name, namespace: 'team', uid: 'u1', generation },
    spec: {
      projectRef: { name: 'shop' },
      title: 'Log in with a passkey',
      description: 'Users log in without a password.',
      dependsOn: [],
      paused: false,
      approvalPolicy: AGENT,
      approvals: [],
      rejections: [],
      waivers: [],
      maxFixCycles: 3,
    },
    status: { phase: 'draft' },
  }) as LiveFeature;

describe('an action', () => {
  const approve = classify(state('draft', { spec: 'draft' }));
  const digest = 'a'.repeat(40);

  it('is keyed by its action, target and the state it acts on', () => {
    expect(actionKey(feature(), approve, { digest })).toBe(`login/approve_spec/spec/${'a'.repeat(16)}.g3`);
    expect(actionKey(feature(), classify(state('draft')), {})).toBe('login/create_spec/spec/g3');
    const task = { id: 'T2', title: 'two', status: 'pending' } as const;
    expect(
      actionKey(feature(), classify(state('implementation', PLANNED, { tasks: [task] })), { task, digest }),
    ).toBe(`login/implement_task/T2/${'a'.repeat(16)}.g3`);
    // A changed artifact or spec is another state: another key.
    expect(actionKey(feature(), approve, { digest: 'b'.repeat(40) })).not.toBe(
      actionKey(feature(), approve, { digest }),
    );
    expect(actionKey(feature('login', 4), approve, { digest })).not.toBe(
      actionKey(feature(), approve, { digest }),
    );
  });

  it('keeps keys within 128 characters and names within 253', () => {
    const long = feature('x'.repeat(250));
    const key = actionKey(long, approve, { digest });
    expect(key.length).toBeLessThanOrEqual(128);
    expect(key).toMatch(/^[A-Za-z0-9._:/-]+$/);
    expect(workItemName(long, approve, key).length).toBeLessThanOrEqual(253);
    expect(workItemName(feature(), approve, key)).toBe(workItemName(feature(), approve, key));
  });

  it("names the skeleton's command first, then the context an agent follows", () => {
    const prompt = promptFor(feature(), approve, { digest });
    expect(prompt.split('\n')[0]).toBe('/sdlc-approve-spec login');
    expect(prompt).toContain('Action: approve_spec');
    expect(prompt).toContain('Output: .sdlc/features/login/spec.md');
    expect(prompt).toContain(`Digest: ${digest}`);
    expect(prompt).toContain('Approvals: .sdlc/features/login/approvals.yaml');
    expect(prompt.endsWith('Users log in without a password.')).toBe(true);
    expect(commandOf('fix_review_issues')).toBe('/sdlc-fix-review-issues');
  });

  it('gets 45 minutes when heavy, 10 otherwise', () => {
    expect(timeoutOf(classify(state('implementation', PLANNED, { tasks: [open] })))).toBe('45m');
    expect(timeoutOf(approve)).toBe('10m');
  });
});

describe("what a Feature's branch says", () => {
  const sha = (c: string) => c.repeat(40);
  const files = new Map([
    ['spec.md', sha('1')],
    ['review.md', sha('2')],
    ['qa-results.md', sha('3')],
    ['design.md', sha('4')],
  ]);
  const spec = feature().spec;

  it('reads each artifact: missing, a draft, or the verdict on its current digest', () => {
    const { verdicts } = parseVerdicts(
      [
        `- {artifact: spec, digest: ${sha('9')}, verdict: approved}`, // an older version
        `- {artifact: review, digest: ${sha('2')}, verdict: rejected}`,
        `- {artifact: qa_results, digest: ${sha('3').slice(0, 12)}, verdict: passed}`,
        '- {artifact: nonsense, digest: x, verdict: maybe}',
      ].join('\n'),
    );
    const views = artifactViews('login', files, verdicts, spec);
    const by = Object.fromEntries(views.map((v) => [v.type, v.status]));
    expect(by).toMatchObject({
      spec: 'draft',
      review: 'rejected',
      qa_results: 'passed',
      design: 'draft',
      tasks: 'missing',
    });
    expect(views.find((v) => v.type === 'spec')).toEqual({
      type: 'spec',
      status: 'draft',
      path: '.sdlc/features/login/spec.md',
      digest: sha('1'),
    });
  });

  it('lets humans decide on the digest they saw, and waivers satisfy', () => {
    const { verdicts } = parseVerdicts(`- {artifact: spec, digest: ${sha('1')}, verdict: approved}`);
    const human = {
      ...spec,
      approvalPolicy: { ...AGENT, spec: 'human' as const },
      approvals: [{ artifact: 'design' as const, digest: sha('4'), by: 'ann' }],
      rejections: [{ artifact: 'review' as const, digest: sha('0'), by: 'bob' }], // a stale digest
      waivers: [{ artifact: 'audit' as const, by: 'ann', reason: 'a refactor' }],
    };
    const by = Object.fromEntries(
      artifactViews('login', files, verdicts, human).map((v) => [v.type, v.status]),
    );
    // The agent's verdict does not count where a human approves.
    expect(by).toMatchObject({ spec: 'draft', design: 'approved', review: 'draft', audit: 'waived' });
  });

  it('counts entries of approvals.yaml that do not parse, and survives one that is not YAML', () => {
    expect(parseVerdicts('- {artifact: spec}').ignored).toBe(1);
    expect(parseVerdicts(': : :\n\t- [').verdicts).toEqual([]);
  });

  it('reads the tasks of tasks.md', () => {
    expect(
      parseTasks(
        '# Tasks\n\n- [ ] T1: first part\n- [x] T2: second\n* [X] T3 third\n- [ ] T1: again\nnot a task',
      ),
    ).toEqual([
      { id: 'T1', title: 'first part', status: 'pending' },
      { id: 'T2', title: 'second', status: 'completed' },
      { id: 'T3', title: 'third', status: 'completed' },
    ]);
  });
});
