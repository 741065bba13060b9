import type { Resource } from '../../../operator/src/runtime/client.ts';

export const PROJECTS: Resource = {
  group: 'rdev.dev',
  version: 'v1alpha1',
  plural: 'projects',
  kind: 'Project',
  namespaced: true,
};
