// A Project's status as a pure function of what the reconciler observed: the workspace Pod,
// the credentials check, the spec. Conditions keep their transition times unless their status
// flips; the transitions are returned too, for Events.
import type { LiveProject, ProjectStatus } from '../../api/v1alpha1/index.ts';
import {
  type Condition,
  type ConditionUpdate,
  findCondition,
  setCondition,
} from '../../runtime/conditions.ts';
import type { Pod } from '../../runtime/resources.ts';
import type { Credentials, WorkspaceRefusal } from './desired.ts';
import { serviceName } from './names.ts';

/** The workspace Pod as the cache holds it. */
export type PodView = Pod;

/** The status fields the external resources own. */
export type ExternalStatus = Pick<
  ProjectStatus,
  'repo' | 'gitIdentity' | 'ci' | 'database' | 'cache' | 'dns'
>;
export const EXTERNAL_STATUS_FIELDS = ['repo', 'gitIdentity', 'ci', 'database', 'cache', 'dns'] as const;

export interface Observed {
  pod: PodView | undefined;
  credentials: Credentials;
  /** Why no Pod of the Project runs as its spec asks (a disallowed image, resources above the caps). */
  refused?: WorkspaceRefusal;
  /** Why applying the workspace failed this time, if it did. */
  failure?: string;
  /** The condition's reason for that failure (default ApplyFailed). */
  failureReason?: string;
  /** Conditions owned by other sub-reconcilers (RepoReady, DatabaseReady, …), already computed. */
  components?: ConditionUpdate[];
  /** Condition types of components now disabled: dropped from status. */
  retired?: string[];
  /** What exists outside the cluster, as the sub-reconcilers recorded it. */
  external?: ExternalStatus;
}

export interface Transition {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

/** Steps every workspace goes through: shown in the status, not worth an Event. */
const TRANSIENT_REASONS = new Set(['PodCreating', 'PodStarting', 'PodNotReady', 'PodReplacing']);

/** Reasons that need the user to act: they put the Project in phase Failed. */
const USER_ACTION_REASONS = new Set([
  'CredentialsSecretNotFound',
  'CredentialsKeyMissing',
  'ChildNameTaken',
  'ImageNotAllowed',
  'QuotaExceeded',
]);

export function workspaceCondition(project: LiveProject, observed: Observed): ConditionUpdate {
  const base = { type: 'WorkspaceReady', observedGeneration: project.metadata.generation };
  const { credentials, pod } = observed;
  if (project.spec.suspend) {
    return {
      ...base,
      status: 'False',
      reason: 'Suspended',
      message: 'the workspace is suspended (spec.suspend is true)',
    };
  }
  if (observed.refused !== undefined) return { ...base, status: 'False', ...observed.refused };
  if (observed.failure !== undefined) {
    return {
      ...base,
      status: 'False',
      reason: observed.failureReason ?? 'ApplyFailed',
      message: `could not apply the workspace: ${observed.failure}`,
    };
  }
  if (credentials.state === 'missing') {
    return {
      ...base,
      status: 'False',
      reason: 'CredentialsSecretNotFound',
      message: `Secret "${credentials.secret}" named by spec.agent.credentialsSecretRef was not found in namespace ${project.metadata.namespace}`,
    };
  }
  if (credentials.state === 'incomplete') {
    return {
      ...base,
      status: 'False',
      reason: 'CredentialsKeyMissing',
      message: `Secret "${credentials.secret}" has none of the keys the ${project.spec.agent.provider} agent needs: ${credentials.needOneOf.join(', ')}`,
    };
  }
  const podName = pod?.metadata.name;
  if (!pod) return { ...base, status: 'False', reason: 'PodCreating', message: 'creating the workspace Pod' };
  if (pod.metadata.deletionTimestamp) {
    return { ...base, status: 'False', reason: 'PodReplacing', message: `Pod ${podName} is being replaced` };
  }
  const phase = pod.status?.phase ?? 'Pending';
  if (phase === 'Failed' || phase === 'Succeeded') {
    return {
      ...base,
      status: 'False',
      reason: 'PodFailed',
      message: `Pod ${podName} ended (${phase}${pod.status?.reason ? `: ${pod.status.reason}` : ''}); recreating it`,
    };
  }
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  if (phase === 'Running' && ready) {
    return { ...base, status: 'True', reason: 'PodReady', message: `Pod ${podName} is running and ready` };
  }
  const trouble = podTrouble(pod);
  // The usual steps of a start (scheduled, volumes bound, images pulled, containers created) are
  // one state: each would otherwise be a status write, for every Project of a burst.
  if (phase === 'Pending' && !trouble) {
    return { ...base, status: 'False', reason: 'PodStarting', message: `Pod ${podName} is starting` };
  }
  return {
    ...base,
    status: 'False',
    reason: 'PodNotReady',
    message: `Pod ${podName} is ${phase}${trouble}`,
  };
}

/** The scheduler's words for a Pod whose volume claims are not bound yet. */
const UNBOUND_CLAIMS = 'unbound immediate PersistentVolumeClaims';

/** Waiting reasons of a container that is merely starting, not held back. */
const STARTING = new Set(['ContainerCreating', 'PodInitializing']);

/**
 * What the cluster says holds a Pod back, as ` (…)` (empty when it says nothing): the scheduler's
 * reason it cannot place it, else the first container (init containers first) waiting with a
 * reason, such as an image that cannot be pulled or a Secret that does not exist.
 */
export function podTrouble(pod: PodView): string {
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  // Waiting for its new volume claim to be bound is a step of every first start with an
  // Immediate StorageClass, not trouble (a claim that never binds says why in its own Events).
  if (unscheduled?.message && !unscheduled.message.includes(UNBOUND_CLAIMS))
    return ` (not scheduled: ${unscheduled.reason ?? 'Unschedulable'}: ${unscheduled.message})`;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const waiting = statuses
    .map((c) => ({ name: c.name, waiting: c.state?.waiting }))
    .find((c) => c.waiting?.reason && !STARTING.has(c.waiting.reason));
  if (!waiting?.waiting?.reason) return '';
  const message = waiting.waiting.message ? `: ${waiting.waiting.message}` : '';
  return ` (container ${waiting.name}: ${waiting.waiting.reason}${message})`;
}

function readyCondition(project: LiveProject, components: ConditionUpdate[]): ConditionUpdate {
  const generation = project.metadata.generation;
  const failing = components.find((c) => c.status !== 'True');
  if (!failing) {
    return {
      type: 'Ready',
      status: 'True',
      reason: 'Ready',
      message: 'the workspace and every enabled component are ready',
      observedGeneration: generation,
    };
  }
  return {
    type: 'Ready',
    status: 'False',
    reason: failing.reason,
    message: `${failing.type}: ${failing.message}`,
    observedGeneration: generation,
  };
}

function phaseOf(
  project: LiveProject,
  components: ConditionUpdate[],
  ready: ConditionUpdate,
): ProjectStatus['phase'] {
  if (project.metadata.deletionTimestamp) return 'Terminating';
  if (project.spec.suspend) return 'Suspended';
  if (ready.status === 'True') return 'Ready';
  if (components.some((c) => c.status === 'False' && USER_ACTION_REASONS.has(c.reason))) return 'Failed';
  return 'Provisioning';
}

/** The next status, and the transitions (for Events) from the current one. */
export function projectStatus(
  project: LiveProject,
  observed: Observed,
  now: Date,
): { status: ProjectStatus; transitions: Transition[] } {
  const current: ProjectStatus = project.status ?? {};
  const components = [workspaceCondition(project, observed), ...(observed.components ?? [])];
  const ready = readyCondition(project, components);
  let conditions: Condition[] = (current.conditions ?? []).filter((c) => !observed.retired?.includes(c.type));
  for (const update of [...components, ready]) conditions = setCondition(conditions, update, now);

  // One Event per change worth telling: each Event is an API write, and a burst of Projects pays
  // for every one of them. Expected steps (a Pod being created or started) are in the status
  // only; a component turning ready in the pass that makes the Project Ready is told by Ready.
  const changed = (update: ConditionUpdate) => {
    const before = findCondition(current.conditions, update.type);
    return before?.status !== update.status || before.reason !== update.reason;
  };
  const becameReady = ready.status === 'True' && changed(ready);
  const transitions: Transition[] = [];
  for (const update of [...components, ready]) {
    if (!changed(update) || TRANSIENT_REASONS.has(update.reason)) continue;
    if (update.type === 'Ready' && update.status !== 'True') continue; // the component's own event says why
    if (update.type !== 'Ready' && update.status === 'True' && becameReady) continue;
    transitions.push({
      type: update.status === 'True' || update.reason === 'Suspended' ? 'Normal' : 'Warning',
      reason: update.status === 'True' ? update.type : update.reason,
      note: update.message,
    });
  }

  const pod = observed.pod;
  // The external resources' fields are what their sub-reconcilers recorded this time (absent:
  // nothing exists any more).
  const rest: ProjectStatus = { ...current };
  for (const field of EXTERNAL_STATUS_FIELDS) delete rest[field];
  const external = Object.fromEntries(
    EXTERNAL_STATUS_FIELDS.flatMap((field) =>
      observed.external?.[field] ? [[field, observed.external[field]]] : [],
    ),
  );
  const status: ProjectStatus = {
    ...rest,
    ...external,
    phase: phaseOf(project, components, ready),
    observedGeneration: project.metadata.generation,
    conditions,
    workspace: {
      ...(pod && !project.spec.suspend ? { podName: pod.metadata.name } : {}),
      serviceName: serviceName(project.metadata.name),
    },
  };
  return { status, transitions };
}
