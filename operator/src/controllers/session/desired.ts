// The pure parts of a Session: its deadlines, its names, the dedicated Pod made from the
// Project's workspace template, and the preview Service and Ingress.
import type { V1Ingress, V1Pod, V1Service } from '@kubernetes/client-node';
import { durationMs } from '../../api/v1alpha1/duration.ts';
import type { LiveProject, LiveSession } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { setControllerReference } from '../../runtime/apply.ts';
import type { Json, Manifest, OwnerReference } from '../../runtime/client.ts';
import { isConditionTrue } from '../../runtime/conditions.ts';
import { boundedName, dns1035, shortHash } from '../../shared/naming.ts';
import { checkCredentials, desiredPod } from '../project/desired.ts';

export const FIELD_MANAGER = 'rdev-session';

export const sessionPodName = (s: LiveSession) => boundedName(s.metadata.name, 'session', 253);
export const previewName = (s: LiveSession) => dns1035(boundedName(s.metadata.name, 'preview'));
export const sessionLabels = (s: LiveSession) => ({
  'app.kubernetes.io/name': 'rdev-session',
  'app.kubernetes.io/instance': s.metadata.name,
  'app.kubernetes.io/managed-by': 'rdev',
  'rdev.dev/session': s.metadata.name,
  // Under the Project's NetworkPolicy, like its workspace: a dedicated Pod runs the Project's code.
  'rdev.dev/project': s.spec.projectRef.name,
});

export interface Deadline {
  at: Date;
  why: 'ttl' | 'idle';
}

/** When the Session ends: its TTL from creation, or idleTimeout after the last activity. */
export function deadline(s: LiveSession): Deadline {
  const created = Date.parse(s.metadata.creationTimestamp);
  const ttl = new Date(created + durationMs(s.spec.ttl));
  const lastActive = s.status?.lastActivityAt ? Date.parse(s.status.lastActivityAt) : created;
  const idle = new Date(lastActive + durationMs(s.spec.idleTimeout));
  return idle < ttl ? { at: idle, why: 'idle' } : { at: ttl, why: 'ttl' };
}

/**
 * One DNS label under the preview domain: `<session>-<project>` in the default namespace, else
 * `<session>-<project>-<hash>` with a hash of namespace/session/project, so that namespaces (and
 * "x-a"/"b" against "x"/"a-b") never share a host; at most 63 characters, the same every time.
 */
export const previewHost = (s: LiveSession, domain: string) => {
  const { name, namespace } = s.metadata;
  const project = s.spec.projectRef.name;
  const label =
    namespace === 'default'
      ? boundedName(name, project, 63)
      : boundedName(`${name}-${project}`, shortHash(`${namespace}/${name}/${project}`, 6), 63);
  return `${label}.${domain}`;
};

const owned = <T extends Manifest & { metadata?: { ownerReferences?: OwnerReference[] } }>(
  s: LiveSession,
  obj: T,
): T => setControllerReference(s, obj);

/**
 * The Project's workspace Pod as the Project controller would build it now: the template of a
 * dedicated Session's Pod. The database and cache Secrets it gets are those the Project's status
 * reports ready, as the Project controller decides them. Undefined when the workspace must not
 * run (the Project is suspended, or its agent credentials are unusable).
 */
export function workspaceTemplate(
  project: LiveProject,
  config: OperatorConfig,
  /** Key names of the Secret named by spec.agent.credentialsSecretRef, if it exists. */
  credentialsKeys: string[] | undefined,
): Json<V1Pod> | undefined {
  const { database, cache, conditions } = project.status ?? {};
  const envSecrets = [
    isConditionTrue(conditions, 'DatabaseReady') ? database?.secretName : undefined,
    isConditionTrue(conditions, 'CacheReady') ? cache?.secretName : undefined,
  ].filter((name): name is string => name !== undefined);
  const credentialsVersion = [database?.passwordRotation ?? '', cache?.passwordRotation ?? ''].join('/');
  return desiredPod(
    project,
    config,
    checkCredentials(project, credentialsKeys),
    envSecrets,
    credentialsVersion,
  );
}

/**
 * A Pod of the Session's own, built from the Project's workspace template: same image, env and
 * security; its own name, labels (no Service of the Project selects it) and owner, and a scratch
 * volume in place of the Project's (a ReadWriteOnce volume cannot be shared between Pods on two
 * nodes). Built from the template rather than from the running Pod, which carries what admission
 * added to it (injected sidecars, defaults) and would get it added a second time.
 */
export function desiredDedicatedPod(s: LiveSession, template: Json<V1Pod>): Json<V1Pod> {
  const spec = structuredClone(template.spec);
  if (spec?.volumes)
    spec.volumes = spec.volumes.map((v) =>
      v.name === 'workspace' ? { name: 'workspace', emptyDir: {} } : v,
    );
  const annotations = template.metadata?.annotations;
  return owned(s, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: sessionPodName(s),
      namespace: s.metadata.namespace,
      labels: sessionLabels(s),
      ...(annotations ? { annotations: { ...annotations } } : {}),
    },
    spec,
  });
}

export function desiredPreviewService(
  s: LiveSession,
  selector: Record<string, string>,
  port: number,
): Json<V1Service> {
  return owned(s, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: previewName(s), namespace: s.metadata.namespace, labels: sessionLabels(s) },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'preview', port, targetPort: port, protocol: 'TCP' }],
    },
  });
}

export function desiredPreviewIngress(
  s: LiveSession,
  preview: OperatorConfig['preview'],
): Json<V1Ingress> | undefined {
  if (!preview.domain) return undefined;
  const host = previewHost(s, preview.domain);
  return owned(s, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: previewName(s), namespace: s.metadata.namespace, labels: sessionLabels(s) },
    spec: {
      ...(preview.ingressClassName ? { ingressClassName: preview.ingressClassName } : {}),
      ...(preview.tlsSecret ? { tls: [{ hosts: [host], secretName: preview.tlsSecret }] } : {}),
      rules: [
        {
          host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: previewName(s), port: { name: 'preview' } } },
              },
            ],
          },
        },
      ],
    },
  });
}

export const previewURL = (s: LiveSession, preview: OperatorConfig['preview']) =>
  preview.domain ? `${preview.tlsSecret ? 'https' : 'http'}://${previewHost(s, preview.domain)}` : undefined;

/** A dedicated Session of a Project, as the quota of dedicated Pods sees it. */
export interface DedicatedSibling {
  name: string;
  created: string;
  hasPod: boolean;
}

/**
 * Whether a dedicated Session may have its Pod under --max-dedicated-sessions-per-project: one
 * that has its Pod keeps it; the others wait their turn, oldest first, for a free place. No Pod
 * is ever taken away by the quota.
 */
export function mayHaveDedicatedPod(
  name: string,
  siblings: readonly DedicatedSibling[],
  max: number,
): boolean {
  if (max === 0) return true;
  const self = siblings.find((s) => s.name === name);
  if (self?.hasPod) return true;
  const free = max - siblings.filter((s) => s.hasPod).length;
  const waiting = siblings
    .filter((s) => !s.hasPod)
    .sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name));
  const turn = waiting.findIndex((s) => s.name === name);
  return turn >= 0 && turn < free;
}
