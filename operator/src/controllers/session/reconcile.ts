// The Session reconciler: thin I/O around the pure desired.ts and status.ts. It binds the Session
// to a Pod (the Project's workspace, or its own), exposes the preview, and ends the Session at its
// deadline. The Session belongs to its Project (an owner reference), so deleting the Project
// deletes its Sessions; what a Session made (its Pod, the preview Service and Ingress) goes with
// it. lastActivityAt is written by exec alone: the status this reconciler applies never includes it.
import { isDeepStrictEqual } from 'node:util';
import { PROJECTS, SESSIONS } from '../../api/resources.ts';
import type { LiveProject, LiveSession } from '../../api/v1alpha1/index.ts';
import { applyChild, applyStatus, ChildNameTakenError, controllerOf } from '../../runtime/apply.ts';
import {
  apiVersionOf,
  isConflict,
  isNotFound,
  type KubeObject,
  type OwnerReference,
  type Resource,
} from '../../runtime/client.ts';
import { findCondition } from '../../runtime/conditions.ts';
import type { Reconciler } from '../../runtime/controller.ts';
import { addFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from '../../runtime/finalizers.ts';
import { INGRESSES, PODS, SERVICES } from '../../runtime/resources.ts';
import type { Store } from '../../runtime/store.ts';
import type { ReconcilerDeps } from '../deps.ts';
import { childLabels, workspaceName } from '../project/names.ts';
import type { SecretView } from '../project/reconcile.ts';
import type { PodView } from '../project/status.ts';
import {
  type DedicatedSibling,
  deadline,
  desiredDedicatedPod,
  desiredPreviewIngress,
  desiredPreviewService,
  FIELD_MANAGER,
  mayHaveDedicatedPod,
  previewHost,
  previewName,
  previewURL,
  sessionLabels,
  sessionPodName,
  workspaceTemplate,
} from './desired.ts';
import { PREVIEW_DNS_FINALIZER, type PreviewDns } from './preview-dns.ts';
import { type SessionObserved, sessionStatus } from './status.ts';

export interface SessionDeps extends ReconcilerDeps {
  /** Preview DNS records, when configured (else the preview domain has a wildcard record). */
  dns?: PreviewDns;
  sessions: Store<LiveSession>;
  /** Keys of the Sessions of a Project (the Session informer's index). */
  sessionsOf: (namespace: string, project: string) => string[];
  projects: Store<LiveProject>;
  pods: Store<PodView>;
  /** Secrets by their key names only: the agent credentials a dedicated Pod gets. */
  secrets: Store<SecretView>;
  services: Store<KubeObject>;
  ingresses: Store<KubeObject>;
}

type PodBinding = Pick<SessionObserved, 'pod' | 'noPod'> & { selector: Record<string, string> };

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? {}));

const ignoreGone = (err: unknown) => {
  if (!isNotFound(err) && !isConflict(err)) throw err;
};

export function sessionReconciler(deps: SessionDeps): Reconciler {
  const { client, config } = deps;
  const apply = { fieldManager: FIELD_MANAGER };

  /** Removes the preview's DNS records (if this operator makes them) and the finalizer guarding them. */
  const releaseDns = async (session: LiveSession, signal: AbortSignal) => {
    if (!hasFinalizer(session, PREVIEW_DNS_FINALIZER)) return session;
    if (deps.dns) await deps.dns.remove(session, signal);
    return removeFinalizer(client, SESSIONS, session, PREVIEW_DNS_FINALIZER).catch((err) => {
      if (!isNotFound(err)) throw err;
      return undefined;
    });
  };

  const writeStatus = async (session: LiveSession, observed: SessionObserved, now: Date) => {
    const { status, transition } = sessionStatus(session, observed, now);
    const { lastActivityAt: _exec, ...current } = session.status ?? {};
    if (!isDeepStrictEqual(plain(status), plain(current))) {
      await applyStatus(client, SESSIONS, { metadata: session.metadata, status }, apply);
    }
    if (transition) await deps.events.record(session, SESSIONS, { ...transition, action: 'Reconcile' });
  };

  /** Deletes the cached child `name` of `resource` if this Session controls it. */
  const removeChild = async <T extends KubeObject>(
    resource: Resource,
    store: Store<T>,
    session: LiveSession,
    name: string,
  ) => {
    const child = store.get(`${session.metadata.namespace}/${name}`);
    if (!child || child.metadata.deletionTimestamp || controllerOf(child)?.uid !== session.metadata.uid)
      return;
    await client
      .delete(resource, session.metadata.namespace, name, { uid: child.metadata.uid })
      .catch(ignoreGone);
  };

  /** The dedicated Sessions of the Session's Project that are not being deleted, and whether each has its Pod. */
  const dedicatedSiblings = (session: LiveSession): DedicatedSibling[] => {
    const { namespace } = session.metadata;
    return deps
      .sessionsOf(namespace, session.spec.projectRef.name)
      .map((key) => deps.sessions.get(key))
      .filter((s): s is LiveSession => s?.spec.dedicated === true && !isBeingDeleted(s))
      .map((s) => {
        const pod = deps.pods.get(`${namespace}/${sessionPodName(s)}`);
        return {
          name: s.metadata.name,
          created: s.metadata.creationTimestamp ?? '',
          hasPod: pod !== undefined && controllerOf(pod)?.uid === s.metadata.uid,
        };
      });
  };

  /** The Pod the Session's commands run in: the Project's workspace Pod, or its own. */
  const bindPod = async (session: LiveSession, project: LiveProject): Promise<PodBinding> => {
    const { namespace } = session.metadata;
    if (!session.spec.dedicated) {
      const pod = deps.pods.get(`${namespace}/${workspaceName(project.metadata.name)}`);
      return {
        pod,
        noPod: pod
          ? undefined
          : { reason: 'PodMissing', message: "the Project's workspace Pod does not exist" },
        selector: { ...childLabels(project.metadata.name), 'app.kubernetes.io/component': 'workspace' },
      };
    }
    const selector = sessionLabels(session);
    const name = sessionPodName(session);
    const current = deps.pods.get(`${namespace}/${name}`);
    const ref = project.spec.agent.credentialsSecretRef;
    const template = workspaceTemplate(
      project,
      config,
      ref ? deps.secrets.get(`${namespace}/${ref.name}`)?.dataKeys : undefined,
    );
    // The dedicated Pod runs when the Project's own workspace may: not while it is suspended.
    if (!template) {
      if (current) await removeChild(PODS, deps.pods, session, name);
      const why = findCondition(project.status?.conditions, 'WorkspaceReady')?.message;
      return {
        noPod: {
          reason: 'WorkspaceUnavailable',
          message: `the Project's workspace cannot run${why ? `: ${why}` : ''}`,
        },
        selector,
      };
    }
    // A Pod of that name the Session does not control is not its Pod: never used, replaced or deleted.
    const taken = (controller: OwnerReference | undefined) => ({
      noPod: {
        reason: 'ChildNameTaken',
        message: new ChildNameTakenError('Pod', name, 'Session', controller).message,
      },
      selector,
    });
    if (current && controllerOf(current)?.uid !== session.metadata.uid) return taken(controllerOf(current));
    if (!current) {
      const siblings = dedicatedSiblings(session);
      const max = config.maxDedicatedSessionsPerProject;
      if (!mayHaveDedicatedPod(session.metadata.name, siblings, max)) {
        return {
          noPod: {
            reason: 'QuotaExceeded',
            message: `the Project ${project.metadata.name} has ${max} Session${max === 1 ? '' : 's'} with a dedicated Pod, the most it may have (--max-dedicated-sessions-per-project=${max}); this one waits for one to end`,
          },
          selector,
        };
      }
      try {
        const pod = await applyChild(client, PODS, desiredDedicatedPod(session, template), apply);
        return { pod, selector };
      } catch (err) {
        if (err instanceof ChildNameTakenError)
          return { noPod: { reason: err.reason, message: err.message }, selector };
        throw err;
      }
    }
    if (current.status?.phase === 'Failed' || current.status?.phase === 'Succeeded') {
      // Its deletion event brings the next reconcile, which makes a new one.
      await removeChild(PODS, deps.pods, session, name);
      return {
        noPod: { reason: 'PodEnded', message: `Pod ${name} ended (${current.status.phase}); it is replaced` },
        selector,
      };
    }
    return { pod: current, selector };
  };

  /** The preview Service, Ingress and DNS record when spec.preview asks for them; none otherwise. */
  const reconcilePreview = async (
    session: LiveSession,
    selector: Record<string, string>,
    dnsHost: string | undefined,
    signal: AbortSignal,
  ): Promise<SessionObserved['preview']> => {
    const preview = session.spec.preview;
    const ingress = preview ? desiredPreviewIngress(session, config.preview) : undefined;
    if (!preview) await removeChild(SERVICES, deps.services, session, previewName(session));
    if (!ingress) await removeChild(INGRESSES, deps.ingresses, session, previewName(session));
    if (!preview) return undefined;
    // Not taken over when another object has the name: the reconcile fails (logged, retried).
    await applyChild(client, SERVICES, desiredPreviewService(session, selector, preview.port), {
      ...apply,
      current: deps.services.get(`${session.metadata.namespace}/${previewName(session)}`),
    });
    if (ingress)
      await applyChild(client, INGRESSES, ingress, {
        ...apply,
        current: deps.ingresses.get(`${session.metadata.namespace}/${previewName(session)}`),
      });
    const dns = dnsHost && deps.dns ? await deps.dns.ensure(session, dnsHost, signal) : { ok: true as const };
    return {
      port: preview.port,
      url: ingress ? previewURL(session, config.preview) : undefined,
      dnsRecord: dnsHost !== undefined,
      dnsConflict: dns.ok ? undefined : dns.message,
    };
  };

  return async (key, { log, signal }) => {
    const cached = deps.sessions.get(key);
    if (!cached) return undefined;
    if (isBeingDeleted(cached)) {
      await releaseDns(cached, signal);
      return undefined;
    }
    const now = (deps.now ?? (() => new Date()))();
    const { namespace, name } = cached.metadata;
    const ends = deadline(cached);

    if (now >= ends.at) {
      await writeStatus(cached, { deadline: ends, expired: true, projectFound: true }, now);
      // A preview DNS record goes in the deletion's reconcile, through the finalizer.
      await client.delete(SESSIONS, namespace, name, { uid: cached.metadata.uid }).catch(ignoreGone);
      log.info({ why: ends.why }, 'expired');
      return undefined;
    }
    const untilDeadline = { requeueAfter: Math.max(1000, ends.at.getTime() - now.getTime()) };

    const project = deps.projects.get(`${namespace}/${cached.spec.projectRef.name}`);
    if (!project?.metadata.uid) {
      await writeStatus(cached, { deadline: ends, expired: false, projectFound: false }, now);
      return untilDeadline; // the Project's creation wakes it sooner
    }
    if (!cached.metadata.ownerReferences?.some((o) => o.uid === project.metadata.uid)) {
      // Not a controller reference: the Session is the user's object, the Project merely its
      // owner for the garbage collector, which deletes it with the Project.
      const ref = {
        apiVersion: apiVersionOf(PROJECTS),
        kind: 'Project',
        name: project.metadata.name,
        uid: project.metadata.uid,
      };
      await client.patch(
        SESSIONS,
        namespace,
        name,
        [
          { op: 'test', path: '/metadata/resourceVersion', value: cached.metadata.resourceVersion },
          cached.metadata.ownerReferences
            ? { op: 'add', path: '/metadata/ownerReferences/-', value: ref }
            : { op: 'add', path: '/metadata/ownerReferences', value: [ref] },
        ],
        'json',
      );
      return undefined; // its update brings the next reconcile
    }

    const dnsHost =
      cached.spec.preview && config.preview.domain && deps.dns
        ? previewHost(cached, config.preview.domain)
        : undefined;
    // The finalizer goes on before a record can exist, and off once none is wanted any more.
    const session = dnsHost
      ? await addFinalizer(client, SESSIONS, cached, PREVIEW_DNS_FINALIZER)
      : ((await releaseDns(cached, signal)) ?? cached);

    const { selector, ...binding } = await bindPod(session, project);
    const preview = await reconcilePreview(session, selector, dnsHost, signal);
    await writeStatus(
      session,
      { deadline: ends, expired: false, projectFound: true, ...binding, preview },
      now,
    );
    return untilDeadline;
  };
}
