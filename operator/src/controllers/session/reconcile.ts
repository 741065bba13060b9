// The Session reconciler: binds the Session to a Pod (the Project's workspace, or its own),
// exposes the preview, and ends the Session at its deadline. The Session belongs to its Project
// (an owner reference), so deleting the Project deletes its Sessions; what a Session made (its
// Pod, the preview Service and Ingress) goes with it. lastActivityAt is written by exec alone:
// the status this reconciler applies never includes it.
import { isDeepStrictEqual } from 'node:util';
import { SESSIONS } from '../../api/resources.ts';
import type { SessionStatus } from '../../api/v1alpha1/session.ts';
import type { OperatorConfig } from '../../config.ts';
import { applyObject, applyStatus } from '../../runtime/apply.ts';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../../runtime/client.ts';
import { type Condition, type ConditionUpdate, setCondition } from '../../runtime/conditions.ts';
import type { Reconciler } from '../../runtime/controller.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import { addFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from '../../runtime/finalizers.ts';
import { INGRESSES, PODS, SERVICES } from '../../runtime/resources.ts';
import type { Store } from '../../runtime/store.ts';
import type { LiveProject } from '../project/desired.ts';
import { childLabels, workspaceName } from '../project/names.ts';
import type { PodView } from '../project/status.ts';
import {
  deadline,
  desiredDedicatedPod,
  desiredPreviewIngress,
  desiredPreviewService,
  FIELD_MANAGER,
  type LiveSession,
  previewHost,
  previewURL,
  sessionLabels,
  sessionPodName,
} from './desired.ts';
import { PREVIEW_DNS_FINALIZER, type PreviewDns, type PreviewDnsOutcome } from './preview-dns.ts';

export interface SessionDeps {
  client: KubeClient;
  /** Preview DNS records, when configured (else the preview domain has a wildcard record). */
  dns?: PreviewDns;
  events: EventRecorder;
  config: OperatorConfig;
  sessions: Store<LiveSession & KubeObject>;
  projects: Store<LiveProject & KubeObject>;
  pods: Store<PodView>;
}

function previewCondition(
  port: number,
  url: string | undefined,
  dnsHost: string | undefined,
  dns: PreviewDnsOutcome,
): ConditionUpdate {
  if (!url) {
    return {
      type: 'PreviewReady',
      status: 'False',
      reason: 'NotConfigured',
      message: 'no preview domain is configured (operator option --preview-domain)',
    };
  }
  if (!dns.ok)
    return { type: 'PreviewReady', status: 'False', reason: 'DNSRecordTaken', message: dns.message };
  return {
    type: 'PreviewReady',
    status: 'True',
    reason: 'Exposed',
    message: `port ${port} at ${url}${dnsHost ? ', with its DNS record' : ''}`,
  };
}

const isReady = (pod: PodView | undefined) =>
  pod?.status?.phase === 'Running' &&
  pod.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

export function sessionReconciler(deps: SessionDeps): Reconciler {
  const { client, config } = deps;
  const apply = { fieldManager: FIELD_MANAGER };

  return async (key, { log, signal }) => {
    const cached = deps.sessions.get(key);
    if (!cached) return undefined;
    if (isBeingDeleted(cached)) {
      if (hasFinalizer(cached, PREVIEW_DNS_FINALIZER)) {
        if (deps.dns) await deps.dns.remove(cached, signal);
        await removeFinalizer(client, SESSIONS, cached, PREVIEW_DNS_FINALIZER).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      }
      return undefined;
    }
    const dnsHost =
      cached.spec.preview && config.preview.domain && deps.dns
        ? previewHost(cached, config.preview.domain)
        : undefined;
    // The finalizer goes on before a record can exist.
    const session = dnsHost ? await addFinalizer(client, SESSIONS, cached, PREVIEW_DNS_FINALIZER) : cached;
    const now = new Date();
    const { namespace } = session.metadata;
    const { lastActivityAt: _written, ...current } = session.status ?? {};

    const writeStatus = async (status: SessionStatus, conditions: ConditionUpdate[]) => {
      let next: Condition[] = current.conditions ?? [];
      for (const c of conditions)
        next = setCondition(
          next,
          { ...c, observedGeneration: session.metadata.generation as number | undefined },
          now,
        );
      const full: SessionStatus = {
        ...status,
        observedGeneration: session.metadata.generation as number | undefined,
        conditions: next,
      };
      if (!isDeepStrictEqual(JSON.parse(JSON.stringify(full)), JSON.parse(JSON.stringify(current)))) {
        await applyStatus(client, SESSIONS, { metadata: session.metadata, status: full }, apply);
      }
      if (full.phase !== current.phase) {
        const ready = conditions.find((c) => c.type === 'Ready');
        await deps.events.record(session, SESSIONS, {
          type: full.phase === 'Pending' && current.phase ? 'Warning' : 'Normal',
          reason: full.phase ?? 'Unknown',
          action: 'Reconcile',
          note: ready?.message ?? '',
        });
      }
    };

    const ends = deadline(session);
    if (now >= ends.at) {
      const why =
        ends.why === 'ttl'
          ? `its ttl (${session.spec.ttl})`
          : `idleTimeout (${session.spec.idleTimeout}) without activity`;
      await writeStatus({ ...current, phase: 'Expired', expiresAt: ends.at.toISOString() }, [
        { type: 'Ready', status: 'False', reason: 'Expired', message: `the Session ended after ${why}` },
      ]);
      await client
        .delete(SESSIONS, namespace, session.metadata.name, { uid: session.metadata.uid })
        .catch((err) => {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        });
      log.info({ why: ends.why }, 'expired');
      return undefined;
    }

    const project = deps.projects.get(`${namespace}/${session.spec.projectRef.name}`);
    if (!project?.metadata.uid) {
      await writeStatus({ ...current, phase: 'Pending', expiresAt: ends.at.toISOString() }, [
        {
          type: 'Ready',
          status: 'False',
          reason: 'ProjectNotFound',
          message: `Project ${session.spec.projectRef.name} does not exist`,
        },
      ]);
      return { requeueAfter: ends.at.getTime() - now.getTime() };
    }
    if (!session.metadata.ownerReferences?.some((o) => o.uid === project.metadata.uid)) {
      // Belongs to the Project: the garbage collector deletes it with the Project.
      const ref = {
        apiVersion: 'rdev.dev/v1alpha1',
        kind: 'Project',
        name: project.metadata.name,
        uid: project.metadata.uid,
      };
      await client.patch(
        SESSIONS,
        namespace,
        session.metadata.name,
        [
          { op: 'test', path: '/metadata/resourceVersion', value: session.metadata.resourceVersion },
          session.metadata.ownerReferences
            ? { op: 'add', path: '/metadata/ownerReferences/-', value: ref }
            : { op: 'add', path: '/metadata/ownerReferences', value: [ref] },
        ],
        'json',
      );
      return undefined; // its update brings the next reconcile
    }

    const workspace = deps.pods.get(`${namespace}/${workspaceName(project.metadata.name)}`);
    let pod: PodView | undefined = workspace;
    let selector: Record<string, string> = {
      ...childLabels(project.metadata.name),
      'app.kubernetes.io/component': 'workspace',
    };
    if (session.spec.dedicated) {
      selector = sessionLabels(session);
      pod = deps.pods.get(`${namespace}/${sessionPodName(session)}`);
      if (!pod && workspace)
        pod = await applyObject<PodView>(client, PODS, desiredDedicatedPod(session, workspace), apply);
    }

    const conditions: ConditionUpdate[] = [];
    const preview = session.spec.preview;
    if (preview) {
      await applyObject(client, SERVICES, desiredPreviewService(session, selector, preview.port), apply);
      const ingress = desiredPreviewIngress(session, config.preview);
      if (ingress) await applyObject(client, INGRESSES, ingress, apply);
      const dns =
        dnsHost && deps.dns ? await deps.dns.ensure(session, dnsHost, signal) : { ok: true as const };
      conditions.push(
        previewCondition(
          preview.port,
          ingress ? previewURL(session, config.preview) : undefined,
          dnsHost,
          dns,
        ),
      );
    }

    const ready = isReady(pod);
    conditions.push(
      ready
        ? {
            type: 'Ready',
            status: 'True',
            reason: 'PodReady',
            message: `commands run in Pod ${pod?.metadata.name}`,
          }
        : {
            type: 'Ready',
            status: 'False',
            reason: pod ? 'PodNotReady' : 'PodMissing',
            message: pod
              ? `Pod ${pod.metadata.name} is not ready yet`
              : session.spec.dedicated
                ? "waiting for the Project's workspace Pod to copy"
                : "the Project's workspace Pod does not exist",
          },
    );
    const url = preview ? previewURL(session, config.preview) : undefined;
    await writeStatus(
      {
        phase: ready ? 'Active' : 'Pending',
        ...(pod ? { podName: pod.metadata.name } : {}),
        ...(url ? { previewURL: url } : {}),
        expiresAt: ends.at.toISOString(),
      },
      conditions,
    );
    return { requeueAfter: Math.max(1000, ends.at.getTime() - now.getTime()) };
  };
}
