// What a Project's WorkspaceReady condition says of a Pod that is not Ready: the reason the
// cluster gives (the scheduler's, a waiting container's), not merely its phase; and the git a
// workspace Pod gets once the Project has its repository and identity.
import { describe, expect, it } from 'vitest';
import { parseProject } from '../../operator/src/api/v1alpha1/index.ts';
import { loadConfig } from '../../operator/src/config.ts';
import { desiredPod } from '../../operator/src/controllers/project/desired.ts';
import { workspaceCloneScript } from '../../operator/src/controllers/project/git.ts';
import { type PodView, podTrouble } from '../../operator/src/controllers/project/status.ts';

const pod = (status: PodView['status']): PodView => ({
  metadata: { name: 'shop-workspace', namespace: 'team' },
  status,
});

/** The condition of a Pod the scheduler could not place, for `message`. */
const unscheduled = (message: string) => ({
  type: 'PodScheduled',
  status: 'False',
  reason: 'Unschedulable',
  message,
});

/** A container status, waiting for `reason`. */
const waiting = (name: string, reason: string, message?: string) => ({
  name,
  image: 'x',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { waiting: { reason, ...(message ? { message } : {}) } },
});

describe('podTrouble', () => {
  it('says why the scheduler cannot place the Pod', () => {
    const unschedulable = pod({
      phase: 'Pending',
      conditions: [unscheduled('0/1 nodes are available: 1 Insufficient ephemeral-storage.')],
    });
    expect(podTrouble(unschedulable)).toBe(
      ' (not scheduled: Unschedulable: 0/1 nodes are available: 1 Insufficient ephemeral-storage.)',
    );
  });

  it('names the waiting container and its reason, init containers first', () => {
    const pulling = pod({
      phase: 'Pending',
      initContainerStatuses: [waiting('clone', 'ImagePullBackOff', 'pull access denied')],
      containerStatuses: [waiting('workspace', 'PodInitializing')],
    });
    expect(podTrouble(pulling)).toBe(' (container clone: ImagePullBackOff: pull access denied)');
    expect(podTrouble(pod({ phase: 'Pending' }))).toBe('');
  });

  it('sees no trouble in the usual steps of a start: a claim being bound, containers being created', () => {
    const binding = pod({
      phase: 'Pending',
      conditions: [
        unscheduled('0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found'),
      ],
    });
    expect(podTrouble(binding)).toBe('');
    const creating = pod({
      phase: 'Pending',
      containerStatuses: [waiting('workspace', 'ContainerCreating')],
    });
    expect(podTrouble(creating)).toBe('');
  });
});

describe("the workspace's git", () => {
  const project = parseProject({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: {
      name: 'shop',
      namespace: 'team',
      uid: 'u1',
      generation: 1,
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: {},
  });
  const config = loadConfig([], {});
  const git = { secretName: 'shop-git', cloneURL: 'https://git.example.dev/acme/shop.git' };

  it('clones in an init container with the lent token, and hands the token to the workspace by reference', () => {
    const desired = desiredPod(project, config, { state: 'none' }, [], '/', git);
    const init = desired?.spec?.initContainers?.[0];
    expect(init?.name).toBe('clone');
    expect(init?.command).toEqual(['sh', '-c', workspaceCloneScript('shop')]);
    const env = desired?.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'RDEV_GIT_TOKEN')).toEqual({
      name: 'RDEV_GIT_TOKEN',
      valueFrom: { secretKeyRef: { name: 'shop-git', key: 'token' } },
    });
    expect(env.find((e) => e.name === 'RDEV_GIT_URL')?.value).toBe(git.cloneURL);
    // No credential's value is ever in the Pod's spec: only references to the Secret.
    for (const c of [init, desired?.spec?.containers[0]]) {
      const lent = (c?.env ?? []).filter((e) => e.name.startsWith('RDEV_GIT_') && e.name !== 'RDEV_GIT_URL');
      expect(lent).toHaveLength(4);
      expect(lent.every((e) => e.value === undefined && e.valueFrom?.secretKeyRef?.name === 'shop-git')).toBe(
        true,
      );
    }
  });

  it('leaves a Pod without a repository as it was: no init container, no git env', () => {
    const desired = desiredPod(project, config, { state: 'none' });
    expect(desired?.spec?.initContainers).toBeUndefined();
    expect(desired?.spec?.containers[0]?.env?.some((e) => e.name.startsWith('RDEV_GIT_'))).toBe(false);
  });
});
