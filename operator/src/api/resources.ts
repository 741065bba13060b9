// The four rdev kinds as the REST API addresses them.
import type { Resource } from '../runtime/client.ts';
import { GROUP, VERSION } from './v1alpha1/common.ts';

const rdev = (kind: string, plural: string): Resource => ({
  group: GROUP,
  version: VERSION,
  plural,
  kind,
  namespaced: true,
});

export const PROJECTS = rdev('Project', 'projects');
export const SESSIONS = rdev('Session', 'sessions');
export const CHECKOUTS = rdev('Checkout', 'checkouts');
export const FEATURES = rdev('Feature', 'features');
export const WORK_ITEMS = rdev('WorkItem', 'workitems');
