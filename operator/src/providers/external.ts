// The generic sub-reconciler of external resources: it drives a provider through observe →
// create | update, publishes the resource's connection details as its connection Secret (the
// only writer of those Secrets), owns the resource's condition, returns the identifiers to record
// in status, and on deletion (or when the resource is disabled) deletes it unless the policy is
// Retain. Generated passwords follow credentials.ts: on record before any account has them.
import { isDeepStrictEqual } from 'node:util';
import type { LiveProject } from '../api/v1alpha1/index.ts';
import type { ConditionUpdate } from '../runtime/conditions.ts';
import { errorMessage } from '../shared/fields.ts';
import { type ConnectionSecrets, generatePassword } from './credentials.ts';
import {
  type ExternalClient,
  type ExternalContext,
  ForeignResourceError,
  NotConfiguredError,
  WaitingError,
} from './ports.ts';

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
  rotation?(project: LiveProject): { requested?: string; done?: string };
  /**
   * Where the connection details go: a Secret owned by the Project, written here only, whose
   * keys the workspace gets as env once the resource is ready.
   */
  connection?: { secretName(ids: Ids): string; secrets: ConnectionSecrets };
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

/** Where the sub-reconciler says what it creates and what differs when it updates (a pino Logger). */
export interface ExternalLog {
  info(fields: object, message: string): void;
}

const quiet: ExternalLog = { info: () => undefined };

const NOT_CONFIGURED_RETRY_MS = 60_000;
const WAITING_RETRY_MS = 5_000;

/** Failures that only wait for something: a condition saying what, a look again later, no backoff. */
function waitingFor(error: unknown): { reason: string; retryMs: number } | undefined {
  if (error instanceof NotConfiguredError)
    return { reason: 'NotConfigured', retryMs: NOT_CONFIGURED_RETRY_MS };
  if (error instanceof WaitingError) return { reason: 'Waiting', retryMs: WAITING_RETRY_MS };
  return undefined;
}

/** What exists (or may exist) for this Project: the recorded ids, else the deterministic ones. */
function existingIds<Ids>(resource: ExternalResource<Ids>, project: LiveProject): Ids | undefined {
  return resource.recorded(project) ?? (resource.enabled(project) ? resource.client.ids(project) : undefined);
}

export async function reconcileExternal<Ids>(
  resource: ExternalResource<Ids>,
  project: LiveProject,
  signal: AbortSignal,
  log: ExternalLog = quiet,
): Promise<ExternalOutcome<Ids>> {
  const recorded = resource.recorded(project);
  const generation = project.metadata.generation;
  const condition = (status: 'True' | 'False', reason: string, message: string): ConditionUpdate => ({
    type: resource.condition,
    // metadata is loosely typed (its schema keeps unknown fields): read the number the server sets
    observedGeneration: typeof generation === 'number' ? generation : undefined,
    status,
    reason,
    message,
  });
  if (!resource.enabled(project)) {
    if (recorded && resource.deletionPolicy(project) === 'Delete') {
      try {
        await remove(resource, recorded, project, signal);
      } catch (error) {
        const message = `could not delete the disabled ${resource.name}: ${errorMessage(error)}`;
        return { condition: condition('False', 'DeleteFailed', message), ids: recorded, error };
      }
    }
    return { ids: undefined };
  }
  const { requested, done } = resource.rotation?.(project) ?? {};
  const rotatePassword = requested !== undefined && requested !== done;
  try {
    const ids = await provision(resource, { project, recorded, signal, rotatePassword }, log);
    return {
      condition: condition('True', 'Provisioned', `${resource.describe(ids)} is ready`),
      ids,
      rotation: rotatePassword ? requested : done,
      requeueAfter: resource.resyncMs,
    };
  } catch (error) {
    const waiting = waitingFor(error);
    if (waiting) {
      return {
        condition: condition('False', waiting.reason, errorMessage(error)),
        ids: recorded,
        rotation: done,
        requeueAfter: waiting.retryMs,
      };
    }
    // Names are deterministic: record them even if creating failed half-way, so that deletion
    // finds whatever was made; but not what was refused as another owner's.
    return {
      condition: condition('False', 'ProvisioningFailed', errorMessage(error)),
      ids: error instanceof ForeignResourceError ? recorded : existingIds(resource, project),
      rotation: done,
      error,
    };
  }
}

/**
 * Observe, publish the connection details, then create or update: the password (when the client
 * has one) is the one on record, or a new one when there is none or a rotation is asked for, and
 * the Secret holds it before create or update is called with it.
 */
async function provision<Ids>(
  resource: ExternalResource<Ids>,
  base: ExternalContext<Ids>,
  log: ExternalLog,
): Promise<Ids> {
  const { client } = resource;
  const key = client.passwordKey;
  if (key !== undefined && !resource.connection) {
    throw new Error(`the ${resource.name} has a generated password but no connection Secret to keep it in`);
  }
  const secret = resource.connection && {
    secrets: resource.connection.secrets,
    name: resource.connection.secretName(client.ids(base.project)),
  };
  const onFile = secret && (await secret.secrets.read(base.project, secret.name));
  const onRecord = key === undefined ? undefined : onFile?.[key];
  const password = key === undefined ? undefined : (!base.rotatePassword && onRecord) || generatePassword();
  const ctx = password === undefined ? base : { ...base, password };

  const observed = await client.observe(ctx);
  const changes: string[] = [];
  if (observed.exists && !observed.upToDate) changes.push(observed.diff ?? 'it differs from the spec');
  if (base.rotatePassword) changes.push('a new password was asked for');
  else if (password !== onRecord) changes.push(`Secret ${secret?.name} holds no password`);
  if (key !== undefined && observed.connection?.[key] !== password) {
    throw new Error(
      `the ${resource.name} provider's connection details do not carry the password handed over`,
    );
  }
  if (secret && observed.connection && !isDeepStrictEqual(onFile, observed.connection)) {
    await secret.secrets.write(base.project, secret.name, observed.connection);
    changes.push(`Secret ${secret.name} was missing or outdated`);
  }

  const fields = { external: resource.name, diff: changes.join('; ') || undefined };
  if (!observed.exists) {
    log.info({ ...fields, diff: observed.diff }, `creating the ${resource.name}`);
    return client.create(ctx);
  }
  if (!observed.upToDate || base.rotatePassword || password !== onRecord) {
    log.info(fields, `updating the ${resource.name}: ${fields.diff}`);
    return client.update(ctx);
  }
  if (fields.diff) log.info(fields, `published the ${resource.name}'s connection details: ${fields.diff}`);
  return observed.ids ?? client.ids(base.project);
}

/** Deletes the resource, then its connection Secret (the credentials of an account now gone). */
async function remove<Ids>(
  resource: ExternalResource<Ids>,
  ids: Ids,
  project: LiveProject,
  signal: AbortSignal,
): Promise<void> {
  await resource.client.delete(ids, { project, signal, rotatePassword: false });
  if (resource.connection)
    await resource.connection.secrets.delete(project, resource.connection.secretName(ids));
}

/** On Project deletion: deletes what exists unless the policy retains it (then ends what it lent). */
export async function finalizeExternal<Ids>(
  resource: ExternalResource<Ids>,
  project: LiveProject,
  signal: AbortSignal,
): Promise<void> {
  const ids = existingIds(resource, project);
  if (!ids) return;
  try {
    if (resource.deletionPolicy(project) === 'Delete') await remove(resource, ids, project, signal);
    else if (resource.client.retain) {
      const connection = resource.connection
        ? await resource.connection.secrets.read(project, resource.connection.secretName(ids))
        : undefined;
      await resource.client.retain(ids, { project, signal, rotatePassword: false, connection });
    }
  } catch (error) {
    // Not configured any more: there is no way to reach it, so nothing can be deleted.
    if (!(error instanceof NotConfiguredError)) throw error;
  }
}
