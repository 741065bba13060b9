// Wires the Project controller into a manager: the informers it reads (children selected by
// the managed-by label; Secrets reduced to their key names) and what enqueues a Project.
import { PROJECTS } from '../../api/resources.ts';
import { parseProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { projectExternalResources } from '../../providers/index.ts';
import type { KubeObject } from '../../runtime/client.ts';
import {
  annotationsChanged,
  anyOf,
  deletionStarted,
  generationChanged,
  labelsChanged,
} from '../../runtime/controller.ts';
import { dropManagedFields } from '../../runtime/informer.ts';
import type { Manager } from '../../runtime/manager.ts';
import { PODS, type Pod, SECRETS, type Secret } from '../../runtime/resources.ts';
import { reconcilerDeps } from '../deps.ts';
import { isRunner } from '../runner/names.ts';
import { APPLIED_CHILDREN, MANAGED_BY_SELECTOR, OWNED_RESOURCES } from './names.ts';
import { projectReconciler, type SecretView } from './reconcile.ts';
import type { PodView } from './status.ts';

const CREDENTIALS_INDEX = 'credentialsSecret';

/**
 * Keeps only a Secret's key names: the operator never holds other people's secret values. What
 * the API server sends is a whole Secret, data included; what the cache keeps is its view.
 */
const secretKeysOnly = (secret: SecretView | Secret): SecretView => {
  const { apiVersion, kind, metadata } = dropManagedFields(secret);
  return {
    apiVersion,
    kind,
    metadata,
    dataKeys: 'dataKeys' in secret ? secret.dataKeys : Object.keys(secret.data ?? {}),
  };
};

/**
 * What the controllers read of the children they apply (ServiceAccount, claim, Service,
 * NetworkPolicy): their metadata (owner, applied hash), never their spec; and of Pods, their
 * metadata and status. The cache keeps only that: with thousands of Projects, the specs would be
 * most of the operator's memory.
 */
const metadataOnly = <T extends KubeObject>(obj: T): T => {
  const { apiVersion, kind, metadata } = dropManagedFields(obj);
  return { apiVersion, kind, metadata } as T;
};
const podWithoutSpec = (pod: Pod): Pod => {
  const { apiVersion, kind, metadata, status } = dropManagedFields(pod);
  return { apiVersion, kind, metadata, status } as Pod;
};

export function registerProjectController(manager: Manager, config: OperatorConfig): void {
  for (const r of APPLIED_CHILDREN) {
    manager.configureInformer(r, { labelSelector: MANAGED_BY_SELECTOR, transform: metadataOnly });
  }
  manager.configureInformer(PODS, { labelSelector: MANAGED_BY_SELECTOR, transform: podWithoutSpec });
  // Secrets are watched unfiltered (the user's credentials Secrets carry no label of ours).
  manager.configureInformer(SECRETS, { transform: secretKeysOnly });
  const projects = manager.configureInformer(PROJECTS, {
    parse: parseProject,
    indexers: {
      [CREDENTIALS_INDEX]: (p) => {
        const ref = p.spec.agent.credentialsSecretRef;
        return ref ? [`${p.metadata.namespace}/${ref.name}`] : [];
      },
    },
  });
  const reconciler = projectReconciler({
    ...reconcilerDeps(manager, config),
    projects: projects.store,
    pods: manager.informer<PodView>(PODS).store,
    secrets: manager.informer<SecretView>(SECRETS).store,
    children: new Map(APPLIED_CHILDREN.map((r) => [r, manager.informer(r).store])),
    externals: projectExternalResources(manager.client, config, () => projects.store.list()),
  });

  const controller = manager
    .controller('project')
    .for(PROJECTS, [anyOf(generationChanged, deletionStarted, labelsChanged, annotationsChanged)]);
  // Warm runners are the Project's too, but the runner pool looks after them: their churn must not
  // wake the Project's reconcile.
  for (const r of OWNED_RESOURCES) controller.owns(r, r === PODS ? (pod) => !isRunner(pod) : undefined);
  controller
    .watches(SECRETS, (secret) =>
      projects.store
        .byIndex(CREDENTIALS_INDEX, `${secret.metadata.namespace}/${secret.metadata.name}`)
        .map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    )
    .withWorkers(config.workers)
    .complete(reconciler);
}
