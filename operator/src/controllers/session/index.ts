// Wires the Session controller into a manager: Sessions, what they make, and what wakes them
// (their Project, and its workspace Pod). Secrets come from the Project controller's informer,
// which keeps their key names only: it is registered first.
import { PROJECTS, SESSIONS } from '../../api/resources.ts';
import { type LiveProject, parseSession } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import type { Manager } from '../../runtime/manager.ts';
import { INGRESSES, PODS, SECRETS, SERVICES } from '../../runtime/resources.ts';
import { indexByProject } from '../../shared/project-index.ts';
import { reconcilerDeps } from '../deps.ts';
import { MANAGED_BY_SELECTOR } from '../project/names.ts';
import type { SecretView } from '../project/reconcile.ts';
import type { PodView } from '../project/status.ts';
import { isRunner } from '../runner/names.ts';
import { previewDns } from './preview-dns.ts';
import { sessionReconciler } from './reconcile.ts';

export function registerSessionController(manager: Manager, config: OperatorConfig): void {
  manager.configureInformer(INGRESSES, { labelSelector: MANAGED_BY_SELECTOR });
  const sessions = indexByProject(manager, SESSIONS, parseSession);
  const ofProject = sessions.keysOf;
  manager
    .controller('session')
    .for(SESSIONS)
    .owns(PODS)
    .owns(SERVICES)
    .owns(INGRESSES)
    .watches(PROJECTS, (p) => ofProject(p.metadata.namespace, p.metadata.name))
    // The Project's workspace Pod (a shared Session's): not its runners.
    .watches(PODS, (pod) =>
      isRunner(pod) ? [] : ofProject(pod.metadata.namespace, pod.metadata.labels?.['rdev.dev/project']),
    )
    .withWorkers(config.workers)
    .complete(
      sessionReconciler({
        ...reconcilerDeps(manager, config),
        sessions: sessions.store,
        sessionsOf: ofProject,
        projects: manager.informer<LiveProject>(PROJECTS).store,
        pods: manager.informer<PodView>(PODS).store,
        secrets: manager.informer<SecretView>(SECRETS).store,
        services: manager.informer(SERVICES).store,
        ingresses: manager.informer(INGRESSES).store,
        dns: previewDns(manager.client, config),
      }),
    );
}
