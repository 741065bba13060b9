// The in-cluster children a Project should have, as pure functions of the Project, the operator
// configuration and what is known of its credentials Secret. Each child carries a controller
// reference to the Project (garbage collection removes it with the Project) and a hash of its
// desired content, so the reconciler writes only when something changed.
import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { AGENT_PROVIDERS } from '../../agents.ts';
import { WORKSPACE_CONTAINER } from '../../api/constants.ts';
import type { LiveProject, Project } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { externalDnsAnnotations } from '../../providers/dns/external-dns.ts';
import { setControllerReference } from '../../runtime/apply.ts';
import type { Json } from '../../runtime/client.ts';
import { imageAllowed } from '../../shared/image-allow.ts';
import { resourcesAboveCaps, withinCaps } from '../../shared/workspace-caps.ts';
import { cloneContainer, gitEnv, type PodGit } from './git.ts';
import { childLabels, credentialsSecretName, SPEC_HASH, serviceName, workspaceName } from './names.ts';

/** What the reconciler found out about the agent's credentials. */
export type Credentials =
  | { state: 'none' } // no credentialsSecretRef
  | { state: 'missing'; secret: string }
  | { state: 'incomplete'; secret: string; needOneOf: string[] }
  | { state: 'ok'; secret: string; keys: string[] };

export const WORKSPACE_MOUNT = '/workspace';
/** The uid and gid of the workspace images (`make images`): their HOME and /workspace are theirs. */
export const WORKSPACE_UID = 10001;

/** Checks the credentials Secret's keys (names only) against the agent provider's needs. */
export function checkCredentials(project: Project, secretKeys: string[] | undefined): Credentials {
  const ref = project.spec.agent.credentialsSecretRef;
  if (!ref) return { state: 'none' };
  if (!secretKeys) return { state: 'missing', secret: ref.name };
  const provider = AGENT_PROVIDERS[project.spec.agent.provider];
  if (!provider.requiresOneOf.some((k) => secretKeys.includes(k))) {
    return { state: 'incomplete', secret: ref.name, needOneOf: provider.requiresOneOf };
  }
  return {
    state: 'ok',
    secret: ref.name,
    keys: provider.credentialKeys.filter((k) => secretKeys.includes(k)),
  };
}

/** A child of the Project: built with its name, namespace and labels. */
interface Child {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

/** `obj` with the controller reference to `project` and the hash of its content. */
function owned<T extends Child>(project: LiveProject, obj: T): T {
  const hash = createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);
  const withHash = {
    ...obj,
    metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, [SPEC_HASH]: hash } },
  };
  return setControllerReference(project, withHash);
}

const meta = (project: LiveProject, name: string) => ({
  name,
  namespace: project.metadata.namespace,
  labels: childLabels(project.metadata.name),
});

export function desiredServiceAccount(project: LiveProject): Json<k8s.V1ServiceAccount> {
  return owned(project, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(project, workspaceName(project.metadata.name)),
    automountServiceAccountToken: false,
  });
}

export function desiredVolumeClaim(
  project: LiveProject,
  config: OperatorConfig,
): Json<k8s.V1PersistentVolumeClaim> {
  const storageClassName = project.spec.workspace.storageClassName ?? config.storageClassName;
  return owned(project, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(project, workspaceName(project.metadata.name)),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: project.spec.workspace.storage } },
      ...(storageClassName ? { storageClassName } : {}),
    },
  });
}

export function desiredService(project: LiveProject, config: OperatorConfig): Json<k8s.V1Service> {
  const metadata = meta(project, serviceName(project.metadata.name));
  // With external-dns in the cluster, these annotations are the whole of the Project's DNS.
  const dns =
    config.dns.mode === 'external-dns'
      ? externalDnsAnnotations(project, config.domain, config.dns.target)
      : {};
  return owned(project, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: Object.keys(dns).length > 0 ? { ...metadata, annotations: dns } : metadata,
    spec: {
      type: 'ClusterIP',
      // The workspace Pod only: runners carry the Project's labels too (for its NetworkPolicy).
      selector: { ...childLabels(project.metadata.name), 'app.kubernetes.io/component': 'workspace' },
      ports: [
        { name: 'preview', port: project.spec.workspace.previewPort, targetPort: 'preview', protocol: 'TCP' },
      ],
    },
  });
}

/** What the Project's NetworkPolicy selects: every Pod that runs its code (workspace, runners, dedicated Sessions). */
export const projectPodLabels = (project: string) => ({
  'app.kubernetes.io/managed-by': 'rdev',
  'rdev.dev/project': project,
});

const labelsOf = (pairs: readonly string[]) =>
  Object.fromEntries(
    pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );

const namespaceNamed = (name: string) => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
});

/** The cluster DNS Pods (CoreDNS and kube-dns both carry k8s-app=kube-dns in kube-system). */
const CLUSTER_DNS = {
  ...namespaceNamed('kube-system'),
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
};

/**
 * Into the Project's Pods: its own Pods, the shim's Pods (not the rest of their namespace), and
 * the preview ingress controller when one is named. Out: the cluster DNS Pods and --egress-cidr.
 */
export function desiredNetworkPolicy(
  project: LiveProject,
  config: OperatorConfig,
): Json<k8s.V1NetworkPolicy> {
  const egress: Json<k8s.V1NetworkPolicyEgressRule>[] = [
    {
      // DNS through the cluster's DNS Pods only: port 53 anywhere would be a tunnel out.
      to: [CLUSTER_DNS],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
  ];
  if (config.egressCIDRs.length > 0)
    egress.push({ to: config.egressCIDRs.map((cidr) => ({ ipBlock: { cidr } })) });
  return owned(project, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(project, workspaceName(project.metadata.name)),
    spec: {
      podSelector: { matchLabels: projectPodLabels(project.metadata.name) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            {
              ...namespaceNamed(config.shimNamespace),
              podSelector: { matchLabels: labelsOf(config.shimPodLabels) },
            },
            { podSelector: { matchLabels: { 'rdev.dev/project': project.metadata.name } } },
            ...(config.preview.ingressNamespace ? [namespaceNamed(config.preview.ingressNamespace)] : []),
          ],
        },
      ],
      egress,
    },
  });
}

/** The generated credentials: created once (a new token on every reconcile would be useless). */
export function desiredCredentialsSecret(project: LiveProject, token: string): Json<k8s.V1Secret> {
  return owned(project, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(project, credentialsSecretName(project.metadata.name)),
    type: 'Opaque',
    stringData: { RDEV_WORKSPACE_TOKEN: token },
  });
}

/** The image the workspace (and its runners and dedicated Sessions) runs: the spec's, else the provider's. */
export function workspaceImage(project: Project, config: OperatorConfig): string {
  return project.spec.workspace.image ?? AGENT_PROVIDERS[project.spec.agent.provider].image(config);
}

/** Why the operator runs no Pod of the Project as its spec asks (nor runners, nor dedicated Sessions). */
export interface WorkspaceRefusal {
  reason: 'ImageNotAllowed' | 'QuotaExceeded';
  message: string;
}

/** An image --allowed-images does not allow, or resources above --max-workspace-cpu/-memory. */
export function workspaceRefusal(project: Project, config: OperatorConfig): WorkspaceRefusal | undefined {
  const image = workspaceImage(project, config);
  if (!imageAllowed(image, config.allowedImages)) {
    return {
      reason: 'ImageNotAllowed',
      message: `image "${image}" is not among the operator's --allowed-images; set spec.workspace.image to an allowed one`,
    };
  }
  const above = resourcesAboveCaps(project.spec.workspace.resources, config.workspaceCaps);
  return above === undefined ? undefined : { reason: 'QuotaExceeded', message: above };
}

/**
 * The workspace Pod, or undefined when it must not run (suspended, credentials unusable, or
 * refused: see workspaceRefusal). Runners and dedicated Session Pods are built from it.
 */
export function desiredPod(
  project: LiveProject,
  config: OperatorConfig,
  credentials: Credentials,
  /** Credentials Secrets of ready external resources (database, cache): all their keys become env. */
  envSecrets: string[] = [],
  /** Changes with every password rotation, so that the Pod restarts with the new one. */
  credentialsVersion = '/',
  /** The repository and the workspace's token: the Pod clones it on first start and can push. */
  git?: PodGit,
): Json<k8s.V1Pod> | undefined {
  if (project.spec.suspend) return undefined;
  if (credentials.state === 'missing' || credentials.state === 'incomplete') return undefined;
  if (workspaceRefusal(project, config)) return undefined;
  const name = project.metadata.name;
  const provider = AGENT_PROVIDERS[project.spec.agent.provider];
  const env: Json<k8s.V1EnvVar>[] = [
    { name: 'RDEV_PROJECT', value: name },
    { name: 'RDEV_NAMESPACE', value: project.metadata.namespace },
    { name: 'RDEV_AGENT', value: project.spec.agent.provider },
    {
      name: 'RDEV_WORKSPACE_TOKEN',
      valueFrom: { secretKeyRef: { name: credentialsSecretName(name), key: 'RDEV_WORKSPACE_TOKEN' } },
    },
    ...(project.spec.agent.model ? [{ name: provider.modelEnv, value: project.spec.agent.model }] : []),
    ...(credentials.state === 'ok'
      ? credentials.keys.map((key) => ({
          name: key,
          valueFrom: { secretKeyRef: { name: credentials.secret, key } },
        }))
      : []),
    ...(git ? gitEnv(git) : []),
    // the user's own variables last: they may override the ones above
    ...(project.spec.workspace.env ?? []),
  ];
  const container: Json<k8s.V1Container> = {
    name: WORKSPACE_CONTAINER,
    image: workspaceImage(project, config),
    command: provider.command,
    workingDir: WORKSPACE_MOUNT,
    ...(envSecrets.length > 0 ? { envFrom: envSecrets.map((name) => ({ secretRef: { name } })) } : {}),
    env,
    ports: [{ name: 'preview', containerPort: project.spec.workspace.previewPort, protocol: 'TCP' }],
    resources: withinCaps(
      project.spec.workspace.resources ?? { requests: { cpu: '250m', memory: '512Mi' } },
      config.workspaceCaps,
    ),
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: 'workspace', mountPath: WORKSPACE_MOUNT },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
  return owned(project, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta(project, workspaceName(name)),
      labels: { ...childLabels(name), 'app.kubernetes.io/component': 'workspace' },
      ...(credentialsVersion === '/'
        ? {}
        : { annotations: { 'rdev.dev/credentials-version': credentialsVersion } }),
    },
    spec: {
      serviceAccountName: workspaceName(name),
      automountServiceAccountToken: false,
      restartPolicy: 'Always',
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: WORKSPACE_UID,
        runAsGroup: WORKSPACE_UID,
        fsGroup: WORKSPACE_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      ...(git ? { initContainers: [cloneContainer(container, git, WORKSPACE_MOUNT)] } : {}),
      containers: [container],
      volumes: [
        { name: 'workspace', persistentVolumeClaim: { claimName: workspaceName(name) } },
        { name: 'tmp', emptyDir: {} },
      ],
    },
  });
}

/** The children applied on every reconcile (the Pod and the generated Secret have their own rules). */
export function desiredChildren(
  project: LiveProject,
  config: OperatorConfig,
): Json<k8s.V1ServiceAccount | k8s.V1PersistentVolumeClaim | k8s.V1Service | k8s.V1NetworkPolicy>[] {
  return [
    desiredServiceAccount(project),
    desiredVolumeClaim(project, config),
    desiredService(project, config),
    desiredNetworkPolicy(project, config),
  ];
}
