// Names and labels of runner Pods: the Pods, one per WorkItem attempt, where untrusted code runs.
import { randomBytes } from 'node:crypto';
import { boundedName, shortHash } from '../../shared/naming.ts';

export const ROLE_LABEL = 'rdev.dev/role';
export const RUNNER_ROLE = 'runner';
/** On a claimed runner: the WorkItem it serves (its name, hashed when longer than a label value). */
export const WORK_ITEM_LABEL = 'rdev.dev/work-item';
/** On a claimed runner: the attempt it serves. It is deleted once that attempt is over. */
export const ATTEMPT_LABEL = 'rdev.dev/attempt';
export const PROJECT_LABEL = 'rdev.dev/project';
export const FIELD_MANAGER = 'rdev-runners';

/** Whether a Pod is a runner. */
export const isRunner = (pod: { metadata: { labels?: Record<string, string> } }) =>
  pod.metadata.labels?.[ROLE_LABEL] === RUNNER_ROLE;

/** A label value for a name of up to 253 characters: itself when it fits, else bounded with a hash. */
export const labelValue = (name: string) =>
  name.length <= 63 ? name : `${name.slice(0, 54).replace(/[-.]+$/, '')}-${shortHash(name)}`;

/** A warm runner of `project`: a fresh random suffix, since warm runners are interchangeable. */
export const warmRunnerName = (project: string, suffix = randomBytes(4).toString('hex')) =>
  boundedName(project, `runner-${suffix}`, 253);

/** The cold runner of an attempt: deterministic, so a retried create finds the one made before. */
export const coldRunnerName = (item: string, attempt: number) => boundedName(item, `runner-${attempt}`, 253);
