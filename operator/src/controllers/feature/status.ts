// A Feature's status as a pure function of what one pass found and decided: the phase reached
// (forward only: the transitions the classifier allowed, in order, each in phaseHistory), the
// artifacts and tasks as the branch holds them, the next action, and the conditions that tell the
// story — Ready (progressing), Blocked (dependencies), AwaitingApproval (a human must act), and
// Released.
import {
  FEATURE_PHASES,
  type FeaturePhase,
  type FeatureStatus,
  type LiveFeature,
} from '../../api/v1alpha1/index.ts';
import { type ConditionUpdate, setCondition } from '../../runtime/conditions.ts';
import type { ArtifactView } from './artifacts.ts';
import type { Classification, Task } from './classify.ts';

/** The next action as status shows it: a classification, or the one recorded. */
export type NextView = Pick<
  Classification,
  'rule' | 'taskId' | 'transitionTo' | 'gate' | 'reason' | 'artifact'
> & {
  action: string;
  outputPath?: string;
};

/** What a pass observed and decided. */
export interface FeatureObserved {
  /** Phases entered this pass, in order (the classifier's transitions). */
  entered: FeaturePhase[];
  artifacts?: ArtifactView[];
  tasks?: Task[];
  next?: NextView;
  /** The WorkItem of the current action (undefined: none runs). */
  workItem?: string;
  fixCycles?: number;
  pullRequest?: FeatureStatus['pullRequest'];
  /** Why nothing can happen at all this pass (no Project, no repository, the forge failed). */
  waiting?: { reason: string; message: string };
  /** The WorkItem this pass started for the next action. */
  started?: string;
  /** A concurrency limit or pause holds the next action. */
  held?: { reason: string; message: string };
}

export interface Transition {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

const GATE_MESSAGES: Record<string, string> = {
  AwaitingApproval: 'a human must approve',
  FixCyclesExhausted: 'the fix cycles allowed (spec.maxFixCycles) are used up: a human must decide',
  TransitionRefused: 'the transition is refused: a required artifact is not satisfied',
  ActionFailed: 'the last action failed: change the Feature (its generation) to try again',
  ActionChangedNothing: 'the last action succeeded but changed nothing the lifecycle looks at',
  NoRuleMatches: 'no rule matches the Feature’s state',
};

/** The status after the pass, and the Events to record (a phase entered, a gate reached). */
export function featureStatus(
  feature: LiveFeature,
  observed: FeatureObserved,
  now: Date,
): { status: FeatureStatus; transitions: Transition[] } {
  const current = feature.status ?? {};
  const from: FeaturePhase = current.phase ?? 'draft';
  // Forward only, whatever the pass says.
  const entered = observed.entered.filter((p, i, all) => {
    const before = i === 0 ? from : all[i - 1];
    return before !== undefined && FEATURE_PHASES.indexOf(p) > FEATURE_PHASES.indexOf(before);
  });
  const phase = entered.at(-1) ?? from;
  const at = now.toISOString();
  const history = current.phaseHistory?.length
    ? current.phaseHistory
    : [{ phase: from, enteredAt: feature.metadata.creationTimestamp ?? at }];
  const generation =
    typeof feature.metadata.generation === 'number' ? feature.metadata.generation : undefined;
  const next = observed.next;
  const name = feature.spec.title;

  const conditions: ConditionUpdate[] = [];
  const set = (type: string, status: 'True' | 'False', reason: string, message: string) =>
    conditions.push({ type, status, reason, message, observedGeneration: generation });
  const released = phase === 'released';
  set(
    'Released',
    released ? 'True' : 'False',
    released ? 'Released' : 'NotReleased',
    released ? `${name} is merged` : `in phase ${phase}`,
  );
  const blocked = next?.gate === 'blocked';
  set(
    'Blocked',
    blocked ? 'True' : 'False',
    blocked ? 'DependenciesNotReleased' : 'NotBlocked',
    blocked
      ? `waiting for ${feature.spec.dependsOn.filter(Boolean).join(', ')} to be released`
      : 'no dependency holds it',
  );
  const human = next?.gate === 'human';
  const gateMessage = human
    ? `${GATE_MESSAGES[next?.reason ?? ''] ?? 'a human must act'}${next?.artifact ? ` (${next.artifact})` : ''}`
    : 'no human decision is awaited';
  set(
    'AwaitingApproval',
    human ? 'True' : 'False',
    human ? (next?.reason ?? 'AwaitingApproval') : 'NotAwaiting',
    gateMessage,
  );
  if (observed.waiting) set('Ready', 'False', observed.waiting.reason, observed.waiting.message);
  else if (released) set('Ready', 'True', 'Released', `${name} is released`);
  else if (blocked || human)
    set(
      'Ready',
      'False',
      blocked ? 'Blocked' : (next?.reason ?? 'AwaitingApproval'),
      blocked ? 'waiting for dependencies' : gateMessage,
    );
  else if (observed.held) set('Ready', 'False', observed.held.reason, observed.held.message);
  else
    set(
      'Ready',
      'True',
      'Progressing',
      observed.workItem
        ? `${next?.action ?? 'an action'} runs as WorkItem ${observed.workItem}`
        : `next: ${next?.action ?? 'nothing'}`,
    );

  const status: FeatureStatus = {
    ...current,
    phase,
    observedGeneration: generation,
    phaseHistory: [...history, ...entered.map((p) => ({ phase: p, enteredAt: at }))].slice(-16),
    conditions: conditions.reduce((list, c) => setCondition(list, c, now), current.conditions ?? []),
    ...(observed.artifacts ? { artifacts: observed.artifacts } : {}),
    ...(observed.tasks ? { tasks: observed.tasks } : {}),
    ...(observed.fixCycles !== undefined ? { fixCycles: observed.fixCycles } : {}),
    ...(observed.pullRequest ? { pullRequest: observed.pullRequest } : {}),
  };
  if (next) {
    status.nextAction = {
      rule: next.rule,
      action: next.action,
      ...(next.outputPath ? { outputPath: next.outputPath } : {}),
      ...(next.taskId ? { taskId: next.taskId } : {}),
      ...(next.transitionTo ? { transitionTo: next.transitionTo } : {}),
      ...(next.gate ? { gate: next.gate } : {}),
    };
  }
  if (observed.workItem) status.workItem = observed.workItem;
  else delete status.workItem;

  const transitions: Transition[] = entered.map((p) => ({
    type: 'Normal',
    reason: 'PhaseEntered',
    note: `entered phase ${p}`,
  }));
  if (observed.started)
    transitions.push({
      type: 'Normal',
      reason: 'ActionStarted',
      note: `${next?.action} runs as WorkItem ${observed.started}`,
    });
  const wasGated = current.conditions?.find((c) => c.type === 'AwaitingApproval')?.status === 'True';
  if (human && !wasGated)
    transitions.push({ type: 'Warning', reason: next?.reason ?? 'AwaitingApproval', note: gateMessage });
  return { status, transitions };
}
