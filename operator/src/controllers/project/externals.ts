// A Project's external resources (database, cache), driven through the generic sub-reconciler;
// this file maps their outcomes onto the Project: status fields, conditions, workspace env.
import type { ProjectStatus } from '../../api/v1alpha1/index.ts';
import type { CacheIds } from '../../providers/cache/provider.ts';
import type { DatabaseIds } from '../../providers/database/provider.ts';
import { type ExternalResource, finalizeExternal, reconcileExternal } from '../../providers/external.ts';
import type { ConditionUpdate } from '../../runtime/conditions.ts';
import type { LiveProject } from './desired.ts';

export interface ProjectExternals {
  database: ExternalResource<DatabaseIds>;
  cache: ExternalResource<CacheIds>;
}

export interface ExternalsOutcome {
  /** Conditions of the enabled resources. */
  conditions: ConditionUpdate[];
  /** Condition types of disabled resources, to drop from status. */
  retired: string[];
  status: Pick<ProjectStatus, 'database' | 'cache'>;
  /** Credentials Secrets the workspace gets as env (resources that are ready). */
  envSecrets: string[];
  credentialsVersion: string;
  requeueAfter?: number;
  errors: unknown[];
}

export async function reconcileExternals(
  externals: ProjectExternals,
  project: LiveProject,
  signal: AbortSignal,
): Promise<ExternalsOutcome> {
  const db = await reconcileExternal(externals.database, project, signal);
  const cache = await reconcileExternal(externals.cache, project, signal);
  const outcomes = [
    [externals.database, db],
    [externals.cache, cache],
  ] as const;
  const ready = <Ids>(resource: ExternalResource<Ids>, o: { condition?: ConditionUpdate; ids?: Ids }) =>
    o.condition?.status === 'True' && o.ids ? [resource.envSecret(o.ids)] : [];
  const delays = outcomes.map(([, o]) => o.requeueAfter).filter((d): d is number => d !== undefined);
  return {
    conditions: outcomes.flatMap(([, o]) => (o.condition ? [o.condition] : [])),
    retired: outcomes.flatMap(([r, o]) => (o.condition ? [] : [r.condition])),
    status: {
      database: db.ids && { ...db.ids, passwordRotation: db.rotation },
      cache: cache.ids && { ...cache.ids, passwordRotation: cache.rotation },
    },
    /** Changes when a password is rotated: the workspace Pod must restart to read it. */
    credentialsVersion: [db.rotation ?? '', cache.rotation ?? ''].join('/'),
    envSecrets: [...ready(externals.database, db), ...ready(externals.cache, cache)],
    requeueAfter: delays.length > 0 ? Math.min(...delays) : undefined,
    errors: outcomes.flatMap(([, o]) => (o.error === undefined ? [] : [o.error])),
  };
}

/** Deletes (unless retained) every external resource of a Project being deleted. */
export async function finalizeExternals(
  externals: ProjectExternals,
  project: LiveProject,
  signal: AbortSignal,
) {
  await finalizeExternal(externals.cache, project, signal);
  await finalizeExternal(externals.database, project, signal);
}
