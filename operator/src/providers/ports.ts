// The shape every external resource takes (Crossplane's external client): observe what exists,
// then create, update or delete it. A provider knows its system and nothing of Kubernetes but
// its own admin credentials; the generic sub-reconciler (external.ts) knows conditions, status,
// deletion policy, backoff and the connection Secret.
import type { LiveProject } from '../api/v1alpha1/index.ts';

/**
 * How a workspace connects to the resource (Crossplane's ConnectionDetails), e.g. DATABASE_URL,
 * PGUSER, PGPASSWORD: the sub-reconciler publishes them as the resource's connection Secret.
 */
export type ConnectionDetails = Record<string, string>;

/** What observing found (Crossplane's ExternalObservation). */
export interface Observation<Ids = unknown> {
  /** The external resource exists (in whole or in part). */
  exists: boolean;
  /** It exists and matches what the Project asks for: nothing to do. */
  upToDate: boolean;
  /** What differs when it is not up to date: logged on update, shown while it fails. */
  diff?: string;
  /**
   * Its identifiers as observed, recorded in status when nothing needs creating or updating. A
   * provider may leave them out when they are what status records already.
   */
  ids?: Ids;
  /**
   * Its connection details; with a generated password (the client's `passwordKey`) they carry
   * the one handed over in the context.
   */
  connection?: ConnectionDetails;
}

/** What a provider is given on every call. */
export interface ExternalContext<Ids> {
  project: LiveProject;
  /** What the Project's status recorded as existing (authoritative for deletion). */
  recorded: Ids | undefined;
  /** A rotation was requested: `password` is a new one. */
  rotatePassword: boolean;
  /**
   * For a client with a `passwordKey`: the password the account must have, already on record in
   * the connection Secret when create or update is called with it.
   */
  password?: string;
  signal: AbortSignal;
}

export interface ExternalClient<Ids> {
  /** The identifiers this Project's resource has (or would have): deterministic from the Project. */
  ids(project: LiveProject): Ids;
  /**
   * For an account with a generated password: the connection detail that holds it. The
   * sub-reconciler keeps the password in the connection Secret (a new one when there is none
   * or a rotation is asked for) and hands it to observe, create and update.
   */
  passwordKey?: string;
  observe(ctx: ExternalContext<Ids>): Promise<Observation<Ids>>;
  /** Makes it (adopting what an interrupted attempt made); returns its identifiers (recorded in status at once). */
  create(ctx: ExternalContext<Ids>): Promise<Ids>;
  /** Brings what exists to what the Project asks (the observed diff, a new password). */
  update(ctx: ExternalContext<Ids>): Promise<Ids>;
  /** Deletes what `ids` name; succeeds when it is already gone. */
  delete(ids: Ids, ctx: Omit<ExternalContext<Ids>, 'recorded' | 'password'>): Promise<void>;
  /**
   * What must end even when the resource is retained on deletion (a kept account's lent tokens),
   * given its connection details as on record.
   */
  retain?(
    ids: Ids,
    ctx: Omit<ExternalContext<Ids>, 'recorded' | 'password'> & { connection?: ConnectionDetails },
  ): Promise<void>;
}

/** The password handed over to a client with a `passwordKey` (the sub-reconciler always gives one). */
export function passwordOf(ctx: Pick<ExternalContext<unknown>, 'password'>): string {
  if (ctx.password === undefined) {
    throw new Error('no password was handed over: the sub-reconciler puts it on record first');
  }
  return ctx.password;
}

/** The system error code (ECONNREFUSED, …) under a failed request: the useful part of its message. */
export function causeCode(err: unknown): string | undefined {
  const cause = err instanceof Error ? err.cause : undefined;
  return typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
    ? cause.code
    : undefined;
}

/** A provider whose endpoint or credentials are not configured: the condition says so. */
export class NotConfiguredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotConfiguredError';
  }
}

/**
 * Something this resource needs is not there yet (CI needs the repository first): not a failure,
 * the condition says what it waits for and the Project is looked at again shortly.
 */
export class WaitingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitingError';
  }
}

/**
 * Something of the resource's name exists and is another owner's (it lacks the Project's mark):
 * rdev neither changes nor deletes it, and the Project records nothing of it.
 */
export class ForeignResourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForeignResourceError';
  }
}
