// The Feature reconciler: reads the Feature's branch, classifies, applies the transitions the
// classifier allows, and starts the next agent action as a WorkItem it owns — at most one at a
// time, one per action key (named after it, so a crash between creating it and recording it finds
// the same one, and no action ever runs twice). The merge phase opens the pull request as the
// Project's identity and waits for it to be merged. Status is written once, at the end of a pass.
import { FEATURES, WORK_ITEMS } from '../../api/resources.ts';
import {
  API_VERSION,
  type FeaturePhase,
  type LiveFeature,
  type LiveProject,
  parseFeature,
} from '../../api/v1alpha1/index.ts';
import { DEFAULT_BRANCH } from '../../providers/git/gitea.ts';
import { giteaBranchClient } from '../../providers/git/gitea-branches.ts';
import { giteaApiFor } from '../../providers/git/gitea-client.ts';
import { readGiteaAccess } from '../../providers/index.ts';
import { NotConfiguredError } from '../../providers/ports.ts';
import { setControllerReference } from '../../runtime/apply.ts';
import { isConflict, type KubeObject } from '../../runtime/client.ts';
import type { Reconciler } from '../../runtime/controller.ts';
import type { Store } from '../../runtime/store.ts';
import { errorMessage } from '../../shared/fields.ts';
import { isFinished, type LiveWorkItem } from '../../shared/work-phases.ts';
import type { ReconcilerDeps } from '../deps.ts';
import { actionKey, FEATURE_LABEL, promptFor, timeoutOf, workItemName } from './action.ts';
import { artifactViews, featureBranch, parseTasks, parseVerdicts, statusesOf } from './artifacts.ts';
import { type Classification, classify } from './classify.ts';
import { readGitState } from './git-state.ts';
import { type FeatureObserved, featureStatus } from './status.ts';

export interface FeatureDeps extends ReconcilerDeps {
  features: Store<LiveFeature>;
  projects: Store<LiveProject>;
  /** The WorkItems a Feature owns, by its uid. */
  itemsOf: (featureUid: string) => LiveWorkItem[];
}

/** The label naming the action a Feature's WorkItem runs: fix cycles are counted by it. */
export const ACTION_LABEL = 'rdev.dev/feature-action';
const FIELD_MANAGER = 'rdev-feature';
const WAIT_MS = 10_000;
/** Transitions applied in one pass at most (the lifecycle has nine). */
const MAX_TRANSITIONS = 10;

const AGENT_FREE: ReadonlySet<string> = new Set([
  'merge',
  'transition',
  'wait_for_approval',
  'wait_for_dependencies',
  'done',
]);

export function featureReconciler(deps: FeatureDeps): Reconciler {
  const { client, config } = deps;

  const write = async (feature: LiveFeature, observed: FeatureObserved) => {
    const now = (deps.now ?? (() => new Date()))();
    const { status, transitions } = featureStatus(feature, observed, now);
    const written = await client.patch<LiveFeature & KubeObject>(
      FEATURES,
      feature.metadata.namespace,
      feature.metadata.name,
      { metadata: { resourceVersion: feature.metadata.resourceVersion }, status },
      'merge',
      { fieldManager: FIELD_MANAGER },
      'status',
    );
    for (const t of transitions) await deps.events.record(written, FEATURES, { ...t, action: 'Reconcile' });
    return parseFeature(written);
  };

  return async (key, { log, signal }) => {
    const feature = deps.features.get(key);
    if (!feature || feature.metadata.deletionTimestamp) return undefined;
    const { namespace, name } = feature.metadata;
    const phase: FeaturePhase = feature.status?.phase ?? 'draft';
    if (phase === 'released') return undefined;

    const project = deps.projects.get(`${namespace}/${feature.spec.projectRef.name}`);
    const [owner, repoName] = project?.status?.repo?.fullName?.split('/', 2) ?? [];
    const author = project?.status?.gitIdentity?.username;
    if (!project || !owner || !repoName || !author) {
      const message = project
        ? `Project ${feature.spec.projectRef.name} has no repository and git identity yet`
        : `Project ${feature.spec.projectRef.name} does not exist`;
      await write(feature, { entered: [], waiting: { reason: 'WaitingForProject', message } });
      return { requeueAfter: WAIT_MS };
    }

    let access: Awaited<ReturnType<typeof readGiteaAccess>>;
    try {
      access = await readGiteaAccess(client, config);
    } catch (err) {
      if (!(err instanceof NotConfiguredError)) throw err;
      await write(feature, { entered: [], waiting: { reason: 'NotConfigured', message: err.message } });
      return { requeueAfter: 60_000 };
    }
    const repo = { owner, name: repoName };
    const api = giteaApiFor(access, signal);
    const branch = featureBranch(name);
    const items = deps.itemsOf(feature.metadata.uid);
    const running = items.find((i) => !isFinished(i));

    // What the branch holds: the state the classifier judges.
    let git: Awaited<ReturnType<typeof readGitState>>;
    try {
      git = await readGitState(api, repo, name, branch);
    } catch (err) {
      await write(feature, { entered: [], waiting: { reason: 'GitError', message: errorMessage(err) } });
      throw err;
    }
    const { verdicts, ignored } = parseVerdicts(git.approvals);
    if (ignored > 0) log.info({ ignored }, 'approvals.yaml has entries that do not parse; ignored');
    const artifacts = artifactViews(name, git.files, verdicts, feature.spec);
    const statuses = statusesOf(artifacts);
    const tasks = parseTasks(git.tasks);
    const fixCycles = items.filter((i) => i.metadata.labels?.[ACTION_LABEL] === 'fix_review_issues').length;
    const waitingFor = feature.spec.dependsOn.filter(
      (d) => deps.features.get(`${namespace}/${d}`)?.status?.phase !== 'released',
    );
    const observed: FeatureObserved = { entered: [], artifacts, tasks, fixCycles };

    // An action still runs: its end (the WorkItem's event) brings the next pass.
    if (running) {
      await write(feature, { ...observed, workItem: running.metadata.name, next: recordedNext(feature) });
      return undefined;
    }

    // The merge phase's pull request, as Gitea has it now.
    const forge = giteaBranchClient(access, signal);
    let pullRequest = feature.status?.pullRequest;
    if (pullRequest && !pullRequest.merged) {
      const pr = await forge.getPullRequest(owner, repoName, pullRequest.number);
      pullRequest = { ...pullRequest, merged: pr?.merged === true };
    }

    // Classify, and apply what transitions the classifier allows, in order.
    let at: FeaturePhase = phase;
    let next: Classification;
    for (let i = 0; ; i++) {
      next = classify({
        phase: at,
        artifacts: statuses,
        tasks,
        policy: feature.spec.approvalPolicy,
        fixCycles,
        maxFixCycles: feature.spec.maxFixCycles,
        waitingFor,
        merged: pullRequest?.merged === true,
      });
      if (!next.transitionTo || i >= MAX_TRANSITIONS) break;
      observed.entered.push(next.transitionTo);
      at = next.transitionTo;
    }
    const outputPath = next.artifact ? artifacts.find((a) => a.type === next.artifact)?.path : undefined;
    observed.next = { ...next, ...(outputPath ? { outputPath } : {}) };

    if (next.action === 'merge') {
      const repoInfo = await api.repos.repoGet(owner, repoName).then((r) => r.data);
      const base = feature.spec.baseBranch ?? repoInfo.default_branch ?? DEFAULT_BRANCH;
      const pr =
        pullRequest ??
        (await forge
          .ensurePullRequest(
            owner,
            repoName,
            { head: branch, base, title: feature.spec.title, body: pullRequestBody(feature) },
            author,
          )
          .then((p) => ({ number: p.number ?? 0, url: p.html_url ?? '', merged: p.merged === true })));
      await write(feature, { ...observed, pullRequest: pr });
      return { requeueAfter: config.git.checkoutPollSeconds * 1000 };
    }
    if (AGENT_FREE.has(next.action) || next.gate) {
      await write(feature, { ...observed, ...(pullRequest ? { pullRequest } : {}) });
      return undefined;
    }

    // An agent action: one WorkItem per action key, when the Feature and the Project allow one.
    if (feature.spec.paused) {
      await write(feature, {
        ...observed,
        held: { reason: 'Paused', message: 'spec.paused: no new action starts' },
      });
      return undefined;
    }
    const active = deps.features
      .list()
      .filter(
        (f) =>
          f.metadata.namespace === namespace &&
          f.spec.projectRef.name === feature.spec.projectRef.name &&
          f.metadata.name !== name &&
          f.status?.workItem !== undefined,
      ).length;
    if (active >= config.maxFeaturesPerProject) {
      const message = `${active} Features of Project ${feature.spec.projectRef.name} have an action running (--max-features-per-project)`;
      await write(feature, { ...observed, held: { reason: 'Queued', message } });
      return { requeueAfter: WAIT_MS };
    }
    const target = next.artifact ? artifacts.find((a) => a.type === next.artifact) : undefined;
    const task = next.taskId ? tasks.find((t) => t.id === next.taskId) : undefined;
    const ctx = {
      ...(task
        ? { task, digest: git.files.get('tasks.md') }
        : target?.digest
          ? { digest: target.digest }
          : {}),
    };
    const itemKey = actionKey(feature, next, ctx);
    const itemName = workItemName(feature, next, itemKey);
    const done = items.find((i) => i.metadata.name === itemName);
    if (done) {
      // This very action ran on this very state already: never twice. A human takes it from here.
      const reason = done.status?.phase === 'Succeeded' ? 'ActionChangedNothing' : 'ActionFailed';
      await write(feature, {
        ...observed,
        next: { ...observed.next, action: 'wait_for_approval', gate: 'human', reason },
      });
      return undefined;
    }
    // The phases this pass entered are on record before the action starts: what the action
    // changes (a task ticked off changes tasks.md's digest) must never be judged by the rules of
    // a phase the Feature has left, as it would be after a crash here.
    let base = feature;
    if (observed.entered.length > 0) {
      base = await write(feature, { ...observed, next: undefined });
      observed.entered = [];
    }
    try {
      await client.create(WORK_ITEMS, actionItem(base, next, itemName, itemKey, promptFor(base, next, ctx)));
      log.info({ action: next.action, workItem: itemName }, 'action started');
    } catch (err) {
      if (!isConflict(err)) throw err; // made by a pass that crashed before recording it
    }
    await write(base, { ...observed, workItem: itemName, started: itemName });
    return undefined;
  };
}

/** The next action as recorded, while an action runs (nothing new is decided meanwhile). */
const recordedNext = (feature: LiveFeature): FeatureObserved['next'] => feature.status?.nextAction;

const pullRequestBody = (feature: LiveFeature) =>
  [
    `Feature ${feature.metadata.namespace}/${feature.metadata.name}, driven through its lifecycle by rdev.`,
    '',
    feature.spec.description,
  ].join('\n');

/** The WorkItem running an action, owned by the Feature. */
function actionItem(feature: LiveFeature, c: Classification, name: string, key: string, prompt: string) {
  return setControllerReference(
    { ...feature, apiVersion: API_VERSION, kind: 'Feature' },
    {
      apiVersion: API_VERSION,
      kind: 'WorkItem',
      metadata: {
        name,
        namespace: feature.metadata.namespace,
        labels: { [FEATURE_LABEL]: feature.metadata.name, [ACTION_LABEL]: c.action },
      },
      spec: {
        projectRef: feature.spec.projectRef,
        type: 'agent',
        prompt,
        runIn: 'runner',
        timeout: timeoutOf(c),
        idempotencyKey: key,
        // Kept as long as the Feature: its WorkItems are the record of the actions it ran.
        ttlSecondsAfterFinished: 31_536_000,
        git: {
          branch: featureBranch(feature.metadata.name),
          ...(feature.spec.baseBranch ? { baseBranch: feature.spec.baseBranch } : {}),
          commit: true,
          pullRequest: false,
          title: `${feature.metadata.name}: ${c.action.replaceAll('_', ' ')}`,
        },
      },
    },
  );
}
