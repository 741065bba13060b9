// An agent action of a Feature as the WorkItem that runs it, as pure functions: its prompt (the
// skeleton's command for the action, then the Feature's context in plain `Key: value` lines an
// agent — or the test agent — can follow), its idempotency key (the action, its target and the
// version of the state it acts on: the same action on the same state never runs twice), its name,
// and its timeout.
import type { LiveFeature } from '../../api/v1alpha1/index.ts';
import { boundedName, shortHash } from '../../shared/naming.ts';
import { APPROVALS_FILE, featureBranch, featureFolder } from './artifacts.ts';
import { ARTIFACT_FILES, type Classification, HEAVY_ACTIONS, type Task } from './classify.ts';

/** The skeleton's command for an action: /sdlc-create-spec, /sdlc-implement-task, … */
export const commandOf = (action: string) => `/sdlc-${action.replaceAll('_', '-')}`;

/** The label on a Feature's WorkItems: the Feature's name. */
export const FEATURE_LABEL = 'rdev.dev/feature';

export interface ActionContext {
  /** The digest of what the action acts on (the artifact judged or fixed, tasks.md for a task). */
  digest?: string;
  task?: Task;
}

/** The prompt of an action: the command, then the context, then the Feature's description. */
export function promptFor(feature: LiveFeature, c: Classification, ctx: ActionContext): string {
  const { name } = feature.metadata;
  const folder = featureFolder(name);
  const lines = [
    `${commandOf(c.action)} ${name}`,
    '',
    `Feature: ${name}`,
    `Title: ${feature.spec.title}`,
    `Action: ${c.action}`,
    `Phase: ${feature.status?.phase ?? 'draft'}`,
    `Branch: ${featureBranch(name)}`,
    ...(feature.spec.baseBranch ? [`Base: ${feature.spec.baseBranch}`] : []),
    `Folder: ${folder}`,
    ...(c.artifact ? [`Artifact: ${c.artifact}`, `Output: ${folder}/${ARTIFACT_FILES[c.artifact]}`] : []),
    ...(ctx.digest ? [`Digest: ${ctx.digest}`] : []),
    ...(ctx.task ? [`Task: ${ctx.task.id}`, `Task-Title: ${ctx.task.title}`] : []),
    `Approvals: ${folder}/${APPROVALS_FILE}`,
    '',
    'Description:',
    feature.spec.description || feature.spec.title,
  ];
  return lines.join('\n');
}

/** A WorkItem idempotency key: at most 128 of [A-Za-z0-9._:/-]. */
export function actionKey(feature: LiveFeature, c: Classification, ctx: ActionContext): string {
  const target = ctx.task?.id ?? c.artifact ?? 'feature';
  // The state acted on: the artifact's version, and the Feature's spec (a changed spec — a human's
  // decision, a retry asked for — is a new state).
  const generation = `g${feature.metadata.generation ?? 0}`;
  const version = ctx.digest ? `${ctx.digest.slice(0, 16)}.${generation}` : generation;
  const key = `${feature.metadata.name}/${c.action}/${target}/${version}`;
  return key.length <= 128 ? key : `${shortHash(feature.metadata.name, 16)}/${c.action}/${target}/${version}`;
}

/** The WorkItem's name: one per key, so a second create of the same action finds the first. */
export const workItemName = (feature: LiveFeature, c: Classification, key: string) =>
  boundedName(feature.metadata.name, `${c.action.replaceAll('_', '-')}-${shortHash(key, 10)}`, 253);

/** Heavy actions get 45 minutes, the others 10. */
export const timeoutOf = (c: Classification) => (HEAVY_ACTIONS.has(c.action) ? '45m' : '10m');
