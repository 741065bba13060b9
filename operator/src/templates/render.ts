// Renders the files a new Project's repository starts with, from the template tree (templates/):
// the skeleton every repository gets, plus the units of the chosen template (the monorepo's
// components, or the single unit of a standalone template). Deterministic: the same tree,
// selection and variables always give the same files, sorted by path.
//
// Tree layout (templates/README.md has the details):
//   skeleton/**                           files at the repository root, composed from the units
//   components/<component>/unit.json      a monorepo component: its description
//   components/<component>/files/**       files under the component's directory
//   components/<component>/parts/*.eta    what it adds to composed files (CI steps, manifests)
//   <template>/{unit.json,files,parts}    a standalone template (landing, go-api), at the root
//   shared/<name>/{files,parts}           files for units to include (unit.json "include")
// A unit's files and parts are its own plus those its unit.json includes from other folders
// (a component, a shared folder); its own win over included ones of the same path.
// A file ending in .eta is rendered with Eta and loses the suffix (and is left out when it
// renders to nothing but whitespace); every other file is copied as it is.
import { Eta } from 'eta';
import { parseAllDocuments } from 'yaml';
import { TEMPLATE_COMPONENTS } from '../api/v1alpha1/project.ts';
import { errorMessage, field } from '../shared/fields.ts';
import { boundedName } from '../shared/naming.ts';
import {
  checkRelativePath,
  DEFAULT_TEMPLATES_DIR,
  loadTemplateTree,
  TemplateError,
  type TemplateTree,
} from './tree.ts';
import { includable, UNIT_PARTS, type UnitFile, type UnitManifest, unitManifestIn } from './unit.ts';
import {
  TEMPLATE_NAMES,
  type TemplateComponent,
  type TemplateName,
  type TemplateVariables,
  type TemplateVariablesInput,
  templateVariables,
} from './variables.ts';

export { DEFAULT_TEMPLATES_DIR, TemplateError, type TemplateTree } from './tree.ts';

/** Which template, and for the monorepo which components (spec.template of a Project). */
export interface TemplateSelection {
  name: string;
  components?: readonly string[];
}

export interface RenderedFile {
  /** Relative to the repository root, `/`-separated. */
  path: string;
  content: string;
  executable?: boolean;
}

export interface RenderOptions {
  /** Where the template tree lives; templates/ of this repository by default. */
  templatesDir?: string;
  /** A tree already in memory (tests); wins over templatesDir. */
  tree?: TemplateTree;
}

/** A unit as the templates see it (`it.unit`, `it.units`). */
export interface UnitContext extends Omit<UnitManifest, 'image'> {
  /** The component (service, app-react, …) or standalone template (landing, go-api). */
  key: string;
  /** Its folder in the template tree. */
  source: string;
  /** Name of its Kubernetes objects: `<project>-<id>`. */
  resourceName: string;
  /** The image CI pushes, when it has one (pushed as `<name>:<commit>` and `<name>:latest`). */
  image: { registry: string; repository: string; name: string } | undefined;
  /** The Go module path (Go units). */
  goModule: string | undefined;
  /** Port of its development server (web units). */
  devPort: number | undefined;
  /** Rendered parts, '' where the unit has none. */
  parts: { woodpecker: string; deploy: string };
  /** `dir` joined with a relative path. */
  path: (relative: string) => string;
  /** `cd <dir> && ` to run a command in the unit from the root; '' for a unit at the root. */
  cd: string;
}

/** A path prefix of the site host and the unit it is routed to. */
export interface Route {
  path: string;
  unit: UnitContext;
}

/** Everything a template sees as `it`. */
export interface TemplateContext extends TemplateVariables {
  template: TemplateName;
  components: TemplateComponent[];
  units: UnitContext[];
  goUnits: UnitContext[];
  nodeUnits: UnitContext[];
  imageUnits: UnitContext[];
  /** Units deployed by CI (web and worker units). */
  deployUnits: UnitContext[];
  /** The monorepo's service component, if selected (web apps proxy /api to it in development). */
  service: UnitContext | undefined;
  /** What the site host routes where: the first unit claiming a path gets it. */
  routes: Route[];
  /** The unit a template file belongs to (unit files and parts only). */
  unit?: UnitContext;
  /** A JSON string literal, which is also a valid YAML, JavaScript and Go string literal. */
  json: (value: string) => string;
  /** Text escaped for HTML. */
  html: (value: string) => string;
  /** A command line escaped for a Makefile recipe. */
  make: (command: string) => string;
}

const eta = new Eta({
  autoEscape: false,
  autoTrim: false,
  cache: false,
  debug: true,
  // A typo in a template (it.nmae) must fail, not write "undefined" into a repository.
  autoFilter: true,
  filterFunction: (value: unknown) => {
    if (value === undefined || value === null || typeof value === 'object') {
      throw new Error(
        `a template interpolated ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
      );
    }
    return String(value);
  },
});

function render(source: string, template: string, context: object): string {
  try {
    return eta.renderString(template, context);
  } catch (error) {
    throw new TemplateError(`${source}: ${errorMessage(error)}`, { cause: error });
  }
}

const listOf = (items: readonly string[]) => items.map((i) => `"${i}"`).join(', ');

function resolveSelection(selection: TemplateSelection): {
  name: TemplateName;
  components: TemplateComponent[];
} {
  const name = TEMPLATE_NAMES.find((n) => n === selection.name);
  if (!name) {
    throw new TemplateError(
      `unknown template "${selection.name}": expected one of ${listOf(TEMPLATE_NAMES)}`,
    );
  }
  const requested = selection.components ?? [];
  if (name !== 'monorepo' && requested.length > 0) {
    throw new TemplateError(
      `the template "${name}" takes no components (got ${listOf(requested)}): components belong to the monorepo template`,
    );
  }
  const unknown = requested.filter((c) => !TEMPLATE_COMPONENTS.some((known) => known === c));
  if (unknown.length > 0) {
    throw new TemplateError(
      `unknown component ${listOf(unknown)}: expected some of ${listOf(TEMPLATE_COMPONENTS)}`,
    );
  }
  const repeated = requested.filter((c, i) => requested.indexOf(c) !== i);
  if (repeated.length > 0) throw new TemplateError(`component ${listOf(repeated)} is listed more than once`);
  // The API's order, not the caller's: the same set always renders the same repository.
  return { name, components: TEMPLATE_COMPONENTS.filter((c) => requested.includes(c)) };
}

function resolveVariables(variables: TemplateVariablesInput): TemplateVariables {
  const parsed = templateVariables.safeParse(variables);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new TemplateError(`invalid template variables: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** The files of one folder of the tree (`prefix/…`), relative to it, in path order. */
function filesUnder(tree: TemplateTree, prefix: string) {
  return [...tree.entries()]
    .filter(([path]) => path.startsWith(`${prefix}/`))
    .map(([path, file]) => ({ path, relative: path.slice(prefix.length + 1), file }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

function readManifest(tree: TemplateTree, source: string, standalone: boolean): UnitManifest {
  const file = tree.get(`${source}/unit.json`);
  if (!file) throw new TemplateError(`the template tree has no ${source}/unit.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(file.content);
  } catch (error) {
    throw new TemplateError(`${source}/unit.json: ${errorMessage(error)}`, { cause: error });
  }
  const parsed = unitManifestIn(tree).safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new TemplateError(`${source}/unit.json: ${issues.join('; ')}`);
  }
  const manifest = parsed.data;
  if (standalone !== (manifest.dir === '.')) {
    throw new TemplateError(
      `${source}/unit.json: a ${standalone ? 'standalone template lives at the root (dir ".")' : 'component needs a directory of its own'}`,
    );
  }
  for (const entry of filesUnder(tree, source)) {
    const known =
      entry.relative === 'unit.json' ||
      entry.relative.startsWith('files/') ||
      Object.values(UNIT_PARTS).some((part) => entry.relative === `parts/${part}`);
    if (!known) {
      throw new TemplateError(
        `${entry.path}: a unit folder holds unit.json, files/ and parts/{${Object.values(UNIT_PARTS).join(',')}} only`,
      );
    }
  }
  if (manifest.include.some((i) => i.from === source)) {
    throw new TemplateError(`${source}/unit.json: a unit cannot include its own folder`);
  }
  return manifest;
}

/**
 * The files/** and parts of a unit, keyed by their path in its folder ("files/main.go",
 * "parts/deploy.yaml.eta"): what its includes take from other folders, overridden by its own.
 */
function unitFiles(
  tree: TemplateTree,
  source: string,
  manifest: Pick<UnitManifest, 'include'>,
): Map<string, UnitFile> {
  const files = new Map<string, UnitFile>();
  for (const { from, files: only } of manifest.include) {
    for (const [relative, included] of includable(tree, from)) {
      if (only && !only.includes(relative)) continue;
      const taken = files.get(relative);
      if (taken) {
        throw new TemplateError(
          `${source}/unit.json: ${relative} is included from both ${taken.path} and ${included.path}`,
        );
      }
      files.set(relative, included);
    }
  }
  for (const [relative, own] of includable(tree, source)) files.set(relative, own);
  return files;
}

function unitContexts(
  tree: TemplateTree,
  name: TemplateName,
  components: TemplateComponent[],
  vars: TemplateVariables,
): UnitContext[] {
  const sources: { key: string; source: string }[] =
    name === 'monorepo'
      ? components.map((c) => ({ key: c, source: `components/${c}` }))
      : [{ key: name, source: name }];
  const units = sources.map(({ key, source }): UnitContext => {
    const { image, ...manifest } = readManifest(tree, source, name !== 'monorepo');
    const single = manifest.dir === '.';
    const repository = single ? vars.image.repository : `${vars.image.repository}-${manifest.id}`;
    return {
      ...manifest,
      key,
      source,
      resourceName: boundedName(vars.name, manifest.id),
      image: image
        ? { registry: vars.image.registry, repository, name: `${vars.image.registry}/${repository}` }
        : undefined,
      goModule:
        manifest.language === 'go'
          ? single
            ? vars.modulePath
            : `${vars.modulePath}/${manifest.dir}`
          : undefined,
      devPort: undefined,
      parts: { woodpecker: '', deploy: '' },
      path: (relative: string) => (single ? relative : `${manifest.dir}/${relative}`),
      cd: single ? '' : `cd ${manifest.dir} && `,
    };
  });
  for (const a of units) {
    for (const b of units) {
      if (a !== b && (a.id === b.id || `${a.dir}/`.startsWith(`${b.dir}/`))) {
        throw new TemplateError(`the units ${a.source} and ${b.source} share an id or a directory`);
      }
    }
  }
  // The workspace preview shows previewPort: the first web app gets it; Go services keep
  // their own port unless they are the only web unit.
  const web = units.filter((u) => u.kind === 'web');
  const apps = web.filter((u) => u.language === 'node');
  apps.forEach((u, i) => {
    u.devPort = vars.previewPort + i;
  });
  for (const u of web.filter((w) => w.language === 'go')) {
    u.devPort = apps.length === 0 && u === web[0] ? vars.previewPort : u.port;
  }
  return units;
}

function routesOf(units: UnitContext[]): Route[] {
  const routes: Route[] = [];
  for (const unit of units) {
    for (const path of unit.routes) {
      if (!routes.some((r) => r.path === path)) routes.push({ path, unit });
    }
  }
  return routes.sort((a, b) => b.path.length - a.path.length || (a.path < b.path ? -1 : 1));
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Output {
  file: RenderedFile;
  source: string;
}

class OutputSet {
  readonly #files = new Map<string, Output>();

  add(path: string, content: string, source: string, executable: boolean | undefined): void {
    checkRelativePath(path, `${source} would write`);
    const existing = this.#files.get(path);
    if (existing) {
      throw new TemplateError(`${path} is written by both ${existing.source} and ${source}`);
    }
    const file: RenderedFile = { path, content };
    if (executable) file.executable = true;
    this.#files.set(path, { file, source });
  }

  /**
   * Renders (`.eta`) or copies one tree file to `path` (the `.eta` suffix removed); returns
   * the path written, or undefined for a template that rendered to nothing.
   */
  addTemplate(
    path: string,
    source: string,
    tree: { content: string; executable?: boolean },
    context: object,
  ): string | undefined {
    if (!source.endsWith('.eta')) {
      this.add(path, tree.content, source, tree.executable);
      return path;
    }
    const content = render(source, tree.content, context);
    if (content.trim() === '') return undefined;
    const target = path.slice(0, -'.eta'.length);
    this.add(target, content, source, tree.executable);
    return target;
  }

  sorted(): Output[] {
    return [...this.#files.values()].sort((a, b) => (a.file.path < b.file.path ? -1 : 1));
  }
}

/** Renders a selection against a tree in memory; see renderProjectTemplate. */
export function renderTemplateTree(
  tree: TemplateTree,
  selection: TemplateSelection,
  variables: TemplateVariablesInput,
): RenderedFile[] {
  const { name, components } = resolveSelection(selection);
  const vars = resolveVariables(variables);
  const units = unitContexts(tree, name, components, vars);
  const context: TemplateContext = {
    ...vars,
    template: name,
    components,
    units,
    goUnits: units.filter((u) => u.language === 'go'),
    nodeUnits: units.filter((u) => u.language === 'node'),
    imageUnits: units.filter((u) => u.image !== undefined),
    deployUnits: units.filter((u) => u.kind !== 'tool'),
    service: units.find((u) => u.key === 'service'),
    routes: routesOf(units),
    json: (value: string) => JSON.stringify(value),
    html: escapeHtml,
    make: (command: string) => command.replaceAll('$', () => '$$'),
  };

  const out = new OutputSet();
  for (const unit of units) {
    const unitContext = { ...context, unit };
    for (const key of ['setup', 'dev', 'lint', 'test', 'build'] as const) {
      unit.commands[key] = render(
        `${unit.source}/unit.json (commands.${key})`,
        unit.commands[key],
        unitContext,
      );
    }
    const files = unitFiles(tree, unit.source, unit);
    // Object.entries types every key as a string; these are UNIT_PARTS' own keys.
    for (const [part, file] of Object.entries(UNIT_PARTS) as [keyof typeof UNIT_PARTS, string][]) {
      const template = files.get(`parts/${file}`);
      if (template) unit.parts[part] = render(template.path, template.file.content, unitContext);
    }
    if (unit.kind !== 'tool' && unit.parts.deploy.trim() === '') {
      throw new TemplateError(`${unit.source}: a ${unit.kind} unit needs parts/${UNIT_PARTS.deploy}`);
    }
    const written: string[] = [];
    const underFiles = [...files].filter(([relative]) => relative.startsWith('files/'));
    for (const [relative, { path: source, file }] of underFiles.sort(([a], [b]) => (a < b ? -1 : 1))) {
      const path = out.addTemplate(unit.path(relative.slice('files/'.length)), source, file, unitContext);
      if (path !== undefined) written.push(path);
    }
    // The docs list these: they must exist.
    for (const { path } of unit.layout) {
      const target = unit.path(path);
      const exists = path.endsWith('/')
        ? written.some((w) => w.startsWith(target))
        : written.includes(target);
      if (!exists)
        throw new TemplateError(`${unit.source}/unit.json: layout names ${path}, which it does not write`);
    }
    const deploy = files.get(`parts/${UNIT_PARTS.deploy}`);
    if (deploy && unit.parts.deploy.trim() !== '') {
      out.add(`deploy/${unit.id}.yaml`, unit.parts.deploy, deploy.path, false);
    }
  }
  const skeleton = filesUnder(tree, 'skeleton');
  if (skeleton.length === 0) throw new TemplateError('the template tree has no skeleton/');
  for (const entry of skeleton) out.addTemplate(entry.relative, entry.path, entry.file, context);

  const files = out.sorted();
  for (const { file, source } of files) checkOutput(file, source);
  return files.map(({ file }) => file);
}

/** Structured files must parse; the CI pipeline must have what Woodpecker requires. */
function checkOutput(file: RenderedFile, source: string): void {
  const fail = (message: string): never => {
    throw new TemplateError(`${file.path} (from ${source}) ${message}`);
  };
  if (file.path.endsWith('.json')) {
    try {
      JSON.parse(file.content);
    } catch (error) {
      fail(`is not valid JSON: ${errorMessage(error)}`);
    }
  }
  if (!/\.ya?ml$/.test(file.path)) return;
  const documents = parseAllDocuments(file.content);
  if (documents.length === 0) fail('is empty');
  for (const doc of documents) {
    if (doc.errors.length > 0) fail(`is not valid YAML: ${doc.errors[0]?.message}`);
  }
  if (file.path === '.woodpecker.yml') checkPipeline(documents[0]?.toJS(), fail);
}

function checkPipeline(pipeline: unknown, fail: (message: string) => never): void {
  const steps = field(pipeline, 'steps');
  if (!Array.isArray(steps) || steps.length === 0) fail('has no list of steps');
  const names = new Set<string>();
  for (const step of steps) {
    const name = field(step, 'name');
    if (typeof name !== 'string' || name === '') fail('has a step without a name');
    if (names.has(name)) fail(`has two steps named "${name}"`);
    names.add(name);
    if (typeof field(step, 'image') !== 'string') fail(`has a step "${name}" without an image`);
    if ((field(step, 'commands') === undefined) === (field(step, 'settings') === undefined)) {
      fail(`has a step "${name}" that needs either commands or settings (a plugin)`);
    }
  }
}

/**
 * The files a new repository starts with: the skeleton and the units of `selection`, rendered
 * with `variables`. Throws TemplateError for an unknown template or component, invalid
 * variables, a path leaving the repository, two sources writing one path, or a broken template.
 */
export function renderProjectTemplate(
  selection: TemplateSelection,
  variables: TemplateVariablesInput,
  options: RenderOptions = {},
): RenderedFile[] {
  const tree = options.tree ?? loadTemplateTree(options.templatesDir ?? DEFAULT_TEMPLATES_DIR);
  return renderTemplateTree(tree, selection, variables);
}
