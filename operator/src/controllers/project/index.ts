// Wires the Project controller into a manager: the informers it reads (children selected by
// the managed-by label; Secrets reduced to their key names) and what enqueues a Project.
import { PROJECTS } from '../../api/resources.ts';
import type { LiveProject, Project } from '../../api/v1alpha1/index.ts';
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
import { PODS, SECRETS } from '../../runtime/resources.ts';
import type { Store } from '../../runtime/store.ts';
import { APPLIED_CHILDREN, MANAGED_BY_SELECTOR, OWNED_RESOURCES } from './names.ts';
import { projectReconciler, type SecretView } from './reconcile.ts';
import type { PodView } from './status.ts';

const CREDENTIALS_INDEX = 'credentialsSecret';

/** Keeps only a Secret's key names: the operator never holds other people's secret values. */
const secretKeysOnly = (secret: KubeObject): SecretView => {
  const {
    data,
    stringData: _values,
    ...rest
  } = dropManagedFields(secret) as KubeObject & {
    data?: object;
    stringData?: object;
  };
  return { ...rest, dataKeys: Object.keys(data ?? {}) } as SecretView;
};

export function registerProjectController(manager: Manager, config: OperatorConfig): void {
  // Secrets are watched unfiltered (the user's credentials Secrets carry no label of ours).
  for (const r of OWNED_RESOURCES.filter((r) => r !== SECRETS)) {
    manager.configureInformer(r, { labelSelector: MANAGED_BY_SELECTOR });
  }
  manager.configureInformer(SECRETS, { transform: secretKeysOnly });
  manager.configureInformer(PROJECTS, {
    indexers: {
      [CREDENTIALS_INDEX]: (p) => {
        const ref = (p as unknown as Project).spec?.agent?.credentialsSecretRef;
        return ref ? [`${p.metadata.namespace}/${ref.name}`] : [];
      },
    },
  });

  const projects = manager.informer<LiveProject & KubeObject>(PROJECTS);
  const reconciler = projectReconciler({
    client: manager.client,
    events: manager.events,
    config,
    projects: projects.store,
    pods: manager.informer<PodView>(PODS).store,
    secrets: manager.informer<SecretView>(SECRETS).store,
    children: new Map(APPLIED_CHILDREN.map((r) => [r, manager.informer(r).store as Store<KubeObject>])),
    externals: projectExternalResources(manager.client, config),
  });

  const controller = manager
    .controller('project')
    .for(PROJECTS, [anyOf(generationChanged, deletionStarted, labelsChanged, annotationsChanged)]);
  for (const r of OWNED_RESOURCES) controller.owns(r);
  controller
    .watches(SECRETS, (secret) =>
      projects.store
        .byIndex(CREDENTIALS_INDEX, `${secret.metadata.namespace}/${secret.metadata.name}`)
        .map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    )
    .withWorkers(config.workers)
    .complete(reconciler);
}
