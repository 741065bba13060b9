// The Feature lifecycle's classifier, as ordered data: given what the Feature's branch holds (its
// artifacts' statuses, its tasks) and where the Feature is, the first rule that matches says what
// happens next — an agent action, a transition, or a gate where nobody acts. Pure: the controller
// reads the state, classifies, and acts on the answer.
import {
  type ArtifactStatus,
  type ArtifactType,
  FEATURE_PHASES,
  type FeaturePhase,
} from '../../api/v1alpha1/feature.ts';

export const ACTIONS = [
  'create_spec',
  'approve_spec',
  'create_design',
  'approve_design',
  'create_tasks',
  'approve_tasks',
  'create_qa_plan',
  'approve_qa_plan',
  'implement_task',
  'create_review',
  'approve_review',
  'fix_review_issues',
  'create_audit',
  'approve_audit',
  'run_qa',
  'approve_merge',
  'merge',
  'transition',
  'wait_for_approval',
  'wait_for_dependencies',
  'done',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions that take long: an agent gets 45 minutes for them, 10 for the others. */
export const HEAVY_ACTIONS: ReadonlySet<Action> = new Set(['implement_task', 'fix_review_issues', 'run_qa']);

/** Where each artifact lives in the Feature's folder. */
export const ARTIFACT_FILES: Record<ArtifactType, string> = {
  spec: 'spec.md',
  design: 'design.md',
  tasks: 'tasks.md',
  qa_plan: 'qa-plan.md',
  review: 'review.md',
  audit: 'audit.md',
  qa_results: 'qa-results.md',
};

/** What each phase needs satisfied (approved, passed or waived) before a Feature may enter it. */
export const REQUIRED_ARTIFACTS: Record<FeaturePhase, readonly ArtifactType[]> = {
  draft: [],
  specified: ['spec'],
  planned: ['spec', 'design', 'tasks', 'qa_plan'],
  ready: ['spec', 'design', 'tasks', 'qa_plan'],
  implementation: ['spec', 'design', 'tasks', 'qa_plan'],
  review: ['review'],
  audit: ['review'],
  qa: ['audit'],
  merge: ['qa_results'],
  released: ['qa_results'],
};

export interface Task {
  id: string;
  title: string;
  status: 'pending' | 'completed';
}

/** What the classifier looks at. */
export interface FeatureState {
  phase: FeaturePhase;
  artifacts: Record<ArtifactType, ArtifactStatus>;
  tasks: readonly Task[];
  /** Who approves each artifact. */
  policy: Record<ArtifactType, 'agent' | 'human'>;
  fixCycles: number;
  maxFixCycles: number;
  /** Features named in dependsOn that are not released yet. */
  waitingFor: readonly string[];
  /** The merge phase's pull request is merged. */
  merged: boolean;
}

export interface Classification {
  rule: string;
  action: Action;
  /** The artifact the action writes or judges. */
  artifact?: ArtifactType;
  taskId?: string;
  transitionTo?: FeaturePhase;
  /** Why nobody acts: a human must decide, or the Feature waits for its dependencies. */
  gate?: 'human' | 'blocked';
  /** For a gate: the reason a condition shows (AwaitingApproval, FixCyclesExhausted, …). */
  reason?: string;
}

const SATISFIED: ReadonlySet<ArtifactStatus> = new Set(['approved', 'passed', 'waived']);
const NEEDS_APPROVAL: ReadonlySet<ArtifactStatus> = new Set(['draft', 'needs_fix']);
const TO_WRITE: ReadonlySet<ArtifactStatus> = new Set(['missing', 'rejected']);

export const isSatisfied = (s: ArtifactStatus) => SATISFIED.has(s);
const is =
  (type: ArtifactType, statuses: ReadonlySet<ArtifactStatus>) =>
  (s: FeatureState): boolean =>
    statuses.has(s.artifacts[type]);
const satisfied =
  (...types: ArtifactType[]) =>
  (s: FeatureState) =>
    types.every((t) => isSatisfied(s.artifacts[t]));
const all =
  (...checks: ((s: FeatureState) => boolean)[]) =>
  (s: FeatureState) =>
    checks.every((c) => c(s));
const openTask = (s: FeatureState) => s.tasks.find((t) => t.status === 'pending');

interface Rule {
  id: string;
  phase?: FeaturePhase;
  when: (s: FeatureState) => boolean;
  action: Action;
  artifact?: ArtifactType;
  transitionTo?: FeaturePhase;
}

/** Writes `type` when it is missing or rejected; has it judged while it is a draft. */
const writeAndJudge = (
  phase: FeaturePhase,
  type: ArtifactType,
  [write, judge]: [Action, Action],
  prereq: (s: FeatureState) => boolean = () => true,
): Rule[] => [
  {
    id: `${phase}/${type}-to-write`,
    phase,
    when: all(prereq, is(type, TO_WRITE)),
    action: write,
    artifact: type,
  },
  {
    id: `${phase}/${type}-to-judge`,
    phase,
    when: all(prereq, is(type, NEEDS_APPROVAL)),
    action: judge,
    artifact: type,
  },
];

/** The rules, in order: the first that matches wins. */
export const RULES: readonly Rule[] = [
  { id: 'released/done', phase: 'released', when: () => true, action: 'done' },
  { id: 'blocked/dependencies', when: (s) => s.waitingFor.length > 0, action: 'wait_for_dependencies' },
  ...writeAndJudge('draft', 'spec', ['create_spec', 'approve_spec']),
  {
    id: 'draft/spec-satisfied',
    phase: 'draft',
    when: satisfied('spec'),
    action: 'transition',
    transitionTo: 'specified',
  },
  ...writeAndJudge('specified', 'design', ['create_design', 'approve_design']),
  ...writeAndJudge('specified', 'tasks', ['create_tasks', 'approve_tasks'], satisfied('design')),
  ...writeAndJudge(
    'specified',
    'qa_plan',
    ['create_qa_plan', 'approve_qa_plan'],
    satisfied('design', 'tasks'),
  ),
  {
    id: 'specified/plan-satisfied',
    phase: 'specified',
    when: satisfied('design', 'tasks', 'qa_plan'),
    action: 'transition',
    transitionTo: 'planned',
  },
  { id: 'planned/ready', phase: 'planned', when: () => true, action: 'transition', transitionTo: 'ready' },
  {
    id: 'ready/implementation',
    phase: 'ready',
    when: () => true,
    action: 'transition',
    transitionTo: 'implementation',
  },
  {
    id: 'implementation/open-task',
    phase: 'implementation',
    when: (s) => openTask(s) !== undefined,
    action: 'implement_task',
  },
  {
    id: 'implementation/review-to-write',
    phase: 'implementation',
    when: is('review', new Set(['missing'])),
    action: 'create_review',
    artifact: 'review',
  },
  {
    id: 'implementation/review-to-judge',
    phase: 'implementation',
    when: is('review', NEEDS_APPROVAL),
    action: 'approve_review',
    artifact: 'review',
  },
  {
    id: 'implementation/review-rejected',
    phase: 'implementation',
    when: is('review', new Set(['rejected'])),
    action: 'fix_review_issues',
    artifact: 'review',
  },
  {
    id: 'implementation/review-satisfied',
    phase: 'implementation',
    when: satisfied('review'),
    action: 'transition',
    transitionTo: 'review',
  },
  {
    id: 'review/review-to-judge',
    phase: 'review',
    when: is('review', NEEDS_APPROVAL),
    action: 'approve_review',
    artifact: 'review',
  },
  {
    id: 'review/review-rejected',
    phase: 'review',
    when: is('review', new Set(['rejected', 'missing'])),
    action: 'fix_review_issues',
    artifact: 'review',
  },
  {
    id: 'review/review-satisfied',
    phase: 'review',
    when: satisfied('review'),
    action: 'transition',
    transitionTo: 'audit',
  },
  ...writeAndJudge('audit', 'audit', ['create_audit', 'approve_audit']),
  {
    id: 'audit/audit-satisfied',
    phase: 'audit',
    when: satisfied('audit'),
    action: 'transition',
    transitionTo: 'qa',
  },
  {
    id: 'qa/results-to-write',
    phase: 'qa',
    when: is('qa_results', new Set(['missing'])),
    action: 'run_qa',
    artifact: 'qa_results',
  },
  {
    id: 'qa/results-to-judge',
    phase: 'qa',
    when: is('qa_results', NEEDS_APPROVAL),
    action: 'approve_merge',
    artifact: 'qa_results',
  },
  {
    id: 'qa/results-failed',
    phase: 'qa',
    when: is('qa_results', new Set(['failed', 'rejected'])),
    action: 'fix_review_issues',
    artifact: 'qa_results',
  },
  {
    id: 'qa/results-passed',
    phase: 'qa',
    when: is('qa_results', new Set(['approved', 'passed'])),
    action: 'transition',
    transitionTo: 'merge',
  },
  {
    id: 'merge/merged',
    phase: 'merge',
    when: (s) => s.merged,
    action: 'transition',
    transitionTo: 'released',
  },
  { id: 'merge/open', phase: 'merge', when: () => true, action: 'merge' },
];

/** Whether a Feature may move from `from` to `to`: forward only, with what `to` needs satisfied. */
export function canTransition(
  from: FeaturePhase,
  to: FeaturePhase,
  artifacts: Record<ArtifactType, ArtifactStatus>,
): boolean {
  if (FEATURE_PHASES.indexOf(to) <= FEATURE_PHASES.indexOf(from)) return false;
  return REQUIRED_ARTIFACTS[to].every((t) => isSatisfied(artifacts[t]));
}

/** The first rule that matches, with the human gates the policy and the fix-cycle cap add. */
export function classify(state: FeatureState): Classification {
  const rule = RULES.find((r) => (r.phase === undefined || r.phase === state.phase) && r.when(state));
  // Nothing matches (e.g. qa_results waived): nothing to do until a human changes something.
  if (!rule) return { rule: 'fallback', action: 'done', gate: 'human', reason: 'NoRuleMatches' };
  const base: Classification = {
    rule: rule.id,
    action: rule.action,
    ...(rule.artifact ? { artifact: rule.artifact } : {}),
  };
  if (rule.action === 'wait_for_dependencies')
    return { ...base, gate: 'blocked', reason: 'DependenciesNotReleased' };
  if (rule.transitionTo) {
    // A rule's transition still passes the guard: forward only, required artifacts satisfied.
    return canTransition(state.phase, rule.transitionTo, state.artifacts)
      ? { ...base, transitionTo: rule.transitionTo }
      : { ...base, action: 'wait_for_approval', gate: 'human', reason: 'TransitionRefused' };
  }
  if (rule.action === 'implement_task') return { ...base, taskId: openTask(state)?.id };
  if (rule.action.startsWith('approve_') && rule.artifact && state.policy[rule.artifact] === 'human') {
    return { ...base, action: 'wait_for_approval', gate: 'human', reason: 'AwaitingApproval' };
  }
  if (rule.action === 'fix_review_issues' && state.fixCycles >= state.maxFixCycles) {
    return { ...base, action: 'wait_for_approval', gate: 'human', reason: 'FixCyclesExhausted' };
  }
  return base;
}

/** Every artifact missing: a Feature whose branch holds nothing yet. */
export const noArtifacts = (): Record<ArtifactType, ArtifactStatus> => ({
  spec: 'missing',
  design: 'missing',
  tasks: 'missing',
  qa_plan: 'missing',
  review: 'missing',
  audit: 'missing',
  qa_results: 'missing',
});
