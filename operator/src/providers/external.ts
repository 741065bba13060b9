// The generic sub-reconciler of external resources: it drives a provider through observe →
// create | update, owns the resource's condition, returns the identifiers to record in status,
// and on deletion (or when the resource is disabled) deletes it unless the policy is Retain.
import type { LiveProject } from '../api/v1alpha1/index.ts';
import type { ConditionUpdate } from '../runtime/conditions.ts';
import { type ExternalClient, NotConfiguredError, WaitingError } from './ports.ts';

export interface ExternalResource<Ids> {
  /** Human name, e.g. "database". */
  name: string;
  /** The condition this resource owns, e.g. DatabaseReady. */
  condition: string;
  enabled(project: LiveProject): boolean;
  deletionPolicy(project: LiveProject): 'Delete' | 'Retain';
  /** What the Project's status recorded as existing. */
  recorded(project: LiveProject): Ids | undefined;
  /** The password rotation the Project asks for (an annotation's value), and the last one done. */
  rotation(project: LiveProject): { requested?: string; done?: string };
  /** Name of the Secret (owned by the Project) whose keys the workspace gets as env, if any. */
  envSecret?(ids: Ids): string;
  describe(ids: Ids): string;
  client: ExternalClient<Ids>;
  /** Re-observe this often even when nothing changes (a server may lose state on restart). */
  resyncMs?: number;
}

export interface ExternalOutcome<Ids> {
  /** undefined: the resource is disabled and has no condition. */
  condition?: ConditionUpdate;
  /** What status records from now on (undefined: nothing exists). */
  ids: Ids | undefined;
  /** The password rotation done, to record. */
  rotation?: string;
  requeueAfter?: number;
  /** A failure to retry with backoff, already described by the condition. */
  error?: unknown;
}

const NOT_CONFIGURED_RETRY_MS = 60_000;
const WAITING_RETRY_MS = 5_000;

/** What exists (or may exist) for this Project: the recorded ids, else the deterministic ones. */
function existingIds<Ids>(resource: ExternalResource<Ids>, project: LiveProject): Ids | undefined {
  return resource.recorded(project) ?? (resource.enabled(project) ? resource.client.ids(project) : undefined);
}

export async function reconcileExternal<Ids>(
  resource: ExternalResource<Ids>,
  project: LiveProject,
  signal: AbortSignal,
): Promise<ExternalOutcome<Ids>> {
  const recorded = resource.recorded(project);
  const base = {
    type: resource.condition,
    observedGeneration: project.metadata.generation as number | undefined,
  };
  if (!resource.enabled(project)) {
    if (recorded && resource.deletionPolicy(project) === 'Delete') {
      try {
        await resource.client.delete(recorded, { project, signal, rotatePassword: false });
      } catch (error) {
        const message = `could not delete the disabled ${resource.name}: ${errorMessage(error)}`;
        return {
          condition: { ...base, status: 'False', reason: 'DeleteFailed', message },
          ids: recorded,
          error,
        };
      }
    }
    return { ids: undefined };
  }
  const { requested, done } = resource.rotation(project);
  const rotatePassword = requested !== undefined && requested !== done;
  try {
    const ctx = { project, recorded, signal, rotatePassword };
    const observed = await resource.client.observe(ctx);
    let ids = resource.client.ids(project);
    if (!observed.exists) ids = await resource.client.create(ctx);
    else if (!observed.upToDate || rotatePassword) ids = await resource.client.update(ctx);
    return {
      condition: {
        ...base,
        status: 'True',
        reason: 'Provisioned',
        message: `${resource.describe(ids)} is ready`,
      },
      ids,
      rotation: rotatePassword ? requested : done,
      requeueAfter: resource.resyncMs,
    };
  } catch (error) {
    if (error instanceof NotConfiguredError) {
      return {
        condition: { ...base, status: 'False', reason: 'NotConfigured', message: error.message },
        ids: recorded,
        rotation: done,
        requeueAfter: NOT_CONFIGURED_RETRY_MS,
      };
    }
    if (error instanceof WaitingError) {
      return {
        condition: { ...base, status: 'False', reason: 'Waiting', message: error.message },
        ids: recorded,
        rotation: done,
        requeueAfter: WAITING_RETRY_MS,
      };
    }
    // Names are deterministic: record them even if creating failed half-way, so that deletion
    // finds whatever was made.
    return {
      condition: { ...base, status: 'False', reason: 'ProvisioningFailed', message: errorMessage(error) },
      ids: existingIds(resource, project),
      rotation: done,
      error,
    };
  }
}

/** On Project deletion: deletes what exists unless the policy retains it. */
export async function finalizeExternal<Ids>(
  resource: ExternalResource<Ids>,
  project: LiveProject,
  signal: AbortSignal,
): Promise<void> {
  const ids = existingIds(resource, project);
  if (!ids || resource.deletionPolicy(project) === 'Retain') return;
  try {
    await resource.client.delete(ids, { project, signal, rotatePassword: false });
  } catch (error) {
    // Not configured any more: there is no way to reach it, so nothing can be deleted.
    if (!(error instanceof NotConfiguredError)) throw error;
  }
}

export const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
