// The shape every external resource takes (Crossplane's external client): observe what exists,
// then create, update or delete it. A provider knows its system; the generic sub-reconciler
// (external.ts) knows conditions, status, deletion policy and backoff.
import type { LiveProject } from '../api/v1alpha1/index.ts';

export interface Observation {
  /** The external resource exists (in whole or in part). */
  exists: boolean;
  /** It exists and matches what the Project asks for: nothing to do. */
  upToDate: boolean;
  /** Why it is not up to date, for the condition's message. */
  diff?: string;
}

/** What a provider is given on every call. */
export interface ExternalContext<Ids> {
  project: LiveProject;
  /** What the Project's status recorded as existing (authoritative for deletion). */
  recorded: Ids | undefined;
  /** Replace the password with a new one (a rotation was requested). */
  rotatePassword: boolean;
  signal: AbortSignal;
}

export interface ExternalClient<Ids> {
  /** The identifiers this Project's resource has (or would have): deterministic from the Project. */
  ids(project: LiveProject): Ids;
  observe(ctx: ExternalContext<Ids>): Promise<Observation>;
  /** Creates or repairs it; returns its identifiers (recorded in status at once). */
  create(ctx: ExternalContext<Ids>): Promise<Ids>;
  update(ctx: ExternalContext<Ids>): Promise<Ids>;
  /** Deletes what `ids` name; succeeds when it is already gone. */
  delete(ids: Ids, ctx: Omit<ExternalContext<Ids>, 'recorded'>): Promise<void>;
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
