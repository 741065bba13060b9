// The Project reconciler: thin I/O around the pure desired.ts and status.ts. It writes only
// what differs from the cache (a child whose applied hash matches is left alone; an unchanged
// status is not re-sent), so an idle Project costs no API writes.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { FIELD_MANAGER } from '../../api/constants.ts';
import { PROJECTS } from '../../api/resources.ts';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import { applyChild, applyStatus, ChildNameTakenError, controllerOf } from '../../runtime/apply.ts';
import { isConflict, isNotFound, type KubeObject, type Resource } from '../../runtime/client.ts';
import type { Reconciler } from '../../runtime/controller.ts';
import { addFinalizer, isBeingDeleted, removeFinalizer } from '../../runtime/finalizers.ts';
import { PODS, SECRETS } from '../../runtime/resources.ts';
import type { Store } from '../../runtime/store.ts';
import { errorMessage } from '../../shared/fields.ts';
import type { ReconcilerDeps } from '../deps.ts';
import {
  checkCredentials,
  desiredChildren,
  desiredCredentialsSecret,
  desiredPod,
  workspaceRefusal,
} from './desired.ts';
import { finalizeExternals, type ProjectExternals, reconcileExternals } from './externals.ts';
import { APPLIED_CHILDREN, credentialsSecretName, FINALIZER, SPEC_HASH, workspaceName } from './names.ts';
import { type PodView, projectStatus } from './status.ts';
import { workspaceGit } from './workspace-git.ts';

/** A Secret as cached by the operator: its key names only, never its values. */
export type SecretView = KubeObject & { dataKeys: string[] };

export interface ProjectDeps extends ReconcilerDeps {
  projects: Store<LiveProject & KubeObject>;
  pods: Store<PodView>;
  secrets: Store<SecretView>;
  /** Stores of the children applied by hash, by resource. */
  children: Map<Resource, Store<KubeObject>>;
  externals: ProjectExternals;
}

/** The resource a desired child is applied through, by its kind. */
function resourceOf(kind: string | undefined): Resource {
  const resource = APPLIED_CHILDREN.find((r) => r.kind === kind);
  if (!resource) throw new Error(`no resource is applied for a child of kind ${kind}`);
  return resource;
}

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? {}));

const withoutTransitionTimes = (status: { conditions?: { lastTransitionTime?: string }[] }): unknown =>
  plain({ ...status, conditions: status.conditions?.map(({ lastTransitionTime: _, ...c }) => c) });

export function projectReconciler(deps: ProjectDeps): Reconciler {
  const { client, config } = deps;
  const apply = { fieldManager: FIELD_MANAGER };

  // The status last written for each Project, and the resourceVersion it was computed from: a
  // reconcile that runs before the informer has delivered that write sees the old status still,
  // and must not write the same status again.
  const written = new Map<string, { basedOn: string | undefined; status: unknown }>();

  return async (key, { log, signal }) => {
    const cached = deps.projects.get(key);
    if (!cached) {
      written.delete(key);
      return undefined;
    }

    if (isBeingDeleted(cached)) {
      // In-cluster children go with the Project through the garbage collector; external
      // resources (database, cache, …) are released here before the finalizer goes.
      await finalizeExternals(deps.externals, cached, signal);
      await removeFinalizer(client, PROJECTS, cached, FINALIZER).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      log.info('finalized');
      return undefined;
    }
    // The finalizer guards external resources only: a Project without any (a workspace alone)
    // goes with the garbage collector, and costs no write for it.
    const project = needsFinalizer(deps.externals, cached)
      ? await addFinalizer(client, PROJECTS, cached, FINALIZER)
      : cached;
    const { name, namespace } = project.metadata;

    const ref = project.spec.agent.credentialsSecretRef;
    const credentials = checkCredentials(
      project,
      ref ? deps.secrets.get(`${namespace}/${ref.name}`)?.dataKeys : undefined,
    );

    // External resources first: the workspace gets the credentials of those that are ready.
    const externals = await reconcileExternals(deps.externals, project, signal, log);

    // A failure to apply is reported in the status (kubectl describe tells it), then retried.
    let pod: PodView | undefined;
    let failure: unknown;
    try {
      // With what the sub-reconcilers recorded now: the Service publishes only vetted host names.
      await applyChildren(deps, { ...project, status: { ...project.status, ...externals.status } });
      const git = await workspaceGit(deps, project, externals, signal);
      pod = await reconcilePod(
        deps,
        project,
        desiredPod(project, config, credentials, externals.envSecrets, externals.credentialsVersion, git),
      );
    } catch (err) {
      failure = err;
      pod = deps.pods.get(`${namespace}/${workspaceName(name)}`);
    }

    const failed = failure === undefined ? undefined : errorMessage(failure);
    const failureReason = failure instanceof ChildNameTakenError ? failure.reason : undefined;
    const now = (deps.now ?? (() => new Date()))();
    const { status, transitions } = projectStatus(
      project,
      {
        pod,
        credentials,
        refused: workspaceRefusal(project, config),
        failure: failed,
        failureReason,
        components: externals.conditions,
        retired: externals.retired,
        external: externals.status,
      },
      now,
    );
    const last = written.get(key);
    // Compared without transition times: computed against the same stale status, the same
    // change a second later is the same change.
    const comparable = withoutTransitionTimes(status);
    const alreadyWritten =
      last !== undefined &&
      last.basedOn === project.metadata.resourceVersion &&
      isDeepStrictEqual(last.status, comparable);
    if (!alreadyWritten && !isDeepStrictEqual(plain(status), plain(project.status))) {
      await applyStatus(client, PROJECTS, { metadata: project.metadata, status }, apply);
      written.set(key, { basedOn: project.metadata.resourceVersion, status: comparable });
    }
    for (const t of transitions) {
      await deps.events.record(project, PROJECTS, { ...t, action: 'Reconcile' });
    }
    if (failure !== undefined) throw failure;
    if (externals.errors.length > 0) throw externals.errors[0]; // described in the conditions; back off
    return externals.requeueAfter === undefined ? undefined : { requeueAfter: externals.requeueAfter };
  };
}

/** Whether the Project has, or is to have, an external resource: what its finalizer is for. */
function needsFinalizer(externals: ProjectExternals, project: LiveProject): boolean {
  return Object.values(externals).some(
    (r: ProjectExternals[keyof ProjectExternals]) => r.enabled(project) || r.recorded(project) !== undefined,
  );
}

/**
 * Applies the children whose applied hash differs, and creates the generated Secret once: all at
 * once, since none depends on another (a reconcile's time is its slowest write, not their sum).
 */
async function applyChildren(deps: ProjectDeps, project: LiveProject): Promise<void> {
  const { client, config } = deps;
  const { name, namespace } = project.metadata;
  const writes: Promise<unknown>[] = [];
  for (const child of desiredChildren(project, config)) {
    const resource = resourceOf(child.kind);
    const current = deps.children.get(resource)?.get(`${namespace}/${child.metadata?.name}`);
    const mine = current !== undefined && controllerOf(current)?.uid === project.metadata.uid;
    if (mine && current?.metadata.annotations?.[SPEC_HASH] === child.metadata?.annotations?.[SPEC_HASH])
      continue;
    writes.push(applyChild(client, resource, child, { fieldManager: FIELD_MANAGER, current }));
  }
  if (!deps.secrets.get(`${namespace}/${credentialsSecretName(name)}`)) {
    writes.push(
      client
        .create(SECRETS, desiredCredentialsSecret(project, randomBytes(32).toString('base64url')))
        .catch((err) => {
          if (!isConflict(err)) throw err; // created meanwhile: keep the existing token
        }),
    );
  }
  await allSettledOrThrow(writes);
}

/** Waits for every promise; then throws the first failure, if any (none is left running). */
async function allSettledOrThrow(promises: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Creates, replaces or removes the workspace Pod; returns the Pod as it now is (if any). */
async function reconcilePod(
  deps: ProjectDeps,
  project: LiveProject,
  desired: ReturnType<typeof desiredPod>,
): Promise<PodView | undefined> {
  const { client } = deps;
  const podName = workspaceName(project.metadata.name);
  const current = deps.pods.get(`${project.metadata.namespace}/${podName}`);
  const remove = async (pod: PodView) => {
    await client.delete(PODS, pod.metadata.namespace, podName, { uid: pod.metadata.uid }).catch((err) => {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    });
    return { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString() } };
  };

  // A Pod of that name the Project does not control is neither replaced nor deleted.
  if (current && controllerOf(current)?.uid !== project.metadata.uid) {
    if (!desired) return undefined;
    throw new ChildNameTakenError('Pod', podName, 'Project', controllerOf(current));
  }
  if (!desired) return current && !current.metadata.deletionTimestamp ? remove(current) : current;
  if (!current) return applyChild(client, PODS, desired, { fieldManager: FIELD_MANAGER });
  if (current.metadata.deletionTimestamp) return current; // its deletion event brings us back
  const ended = current.status?.phase === 'Failed' || current.status?.phase === 'Succeeded';
  const outdated = current.metadata.annotations?.[SPEC_HASH] !== desired.metadata?.annotations?.[SPEC_HASH];
  // Most of a Pod's spec is immutable: a changed spec means a new Pod.
  return ended || outdated ? remove(current) : current;
}
