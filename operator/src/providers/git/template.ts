// What a Project's new repository is rendered from: the Project's template selection and the
// values the templates need, taken from the Project, its repository and the operator's config.

import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { renderProjectTemplate } from '../../templates/render.ts';
import type { TemplateVariablesInput } from '../../templates/variables.ts';
import { inZone } from '../dns/names.ts';
import type { RenderRepository } from './gitea.ts';

export function templateVariablesFor(
  project: LiveProject,
  config: OperatorConfig,
  repo: { fullName: string; gitURL: string },
): TemplateVariablesInput {
  const { spec } = project;
  const siteHost =
    spec.dns.enabled && config.domain
      ? (project.status?.dns?.hostnames?.[0] ??
        inZone(spec.dns.subdomain ?? project.metadata.name, config.domain))
      : undefined;
  return {
    name: project.metadata.name,
    namespace: project.metadata.namespace,
    ...(config.domain ? { domain: config.domain } : {}),
    ...(siteHost ? { siteHost } : {}),
    previewPort: spec.workspace.previewPort,
    repo: { fullName: repo.fullName },
    gitHost: new URL(repo.gitURL).host,
    database: { enabled: spec.database.enabled, engine: spec.database.engine },
    cache: { enabled: spec.cache.enabled },
  };
}

/** Renders the Project's template; the contents API cannot set file modes, so none are kept. */
export const renderRepository =
  (config: OperatorConfig): RenderRepository =>
  (project, repo) =>
    renderProjectTemplate(project.spec.template, templateVariablesFor(project, config, repo)).map((f) => ({
      path: f.path,
      content: f.content,
    }));
