import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import type { LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { TEMPLATE_COMPONENTS } from '../../operator/src/api/v1alpha1/project.ts';
import { cacheIds, cacheSecretData } from '../../operator/src/providers/cache/provider.ts';
import { databaseIds, databaseSecretData } from '../../operator/src/providers/database/provider.ts';
import {
  DEFAULT_TEMPLATES_DIR,
  type RenderedFile,
  renderProjectTemplate,
  renderTemplateTree,
  TemplateError,
  type TemplateSelection,
} from '../../operator/src/templates/render.ts';
import { loadTemplateTree, type TreeFile } from '../../operator/src/templates/tree.ts';
import {
  CACHE_ENV,
  DATABASE_ENV,
  TEMPLATE_NAMES,
  type TemplateVariablesInput,
  templateVariables,
} from '../../operator/src/templates/variables.ts';

const FULL: TemplateVariablesInput = {
  name: 'shop',
  displayName: 'Shop & Co',
  namespace: 'team',
  domain: 'example.com',
  siteHost: 'shop.example.com',
  repo: { fullName: 'team/shop' },
  database: { enabled: true },
  cache: { enabled: true },
};
// What a Project with nothing but a repository gets: no DNS, database or cache.
const BARE: TemplateVariablesInput = { name: 'shop', namespace: 'team', repo: { fullName: 'team/shop' } };

interface Case {
  selection: TemplateSelection;
  variables: TemplateVariablesInput;
  /** Unit ids whose lint and test steps CI runs. */
  checked: string[];
  /** Unit ids CI builds an image of. */
  images: string[];
  /** Whether CI deploys. */
  deploys: boolean;
}

const CASES: Record<string, Case> = {
  'monorepo-empty': {
    selection: { name: 'monorepo' },
    variables: BARE,
    checked: [],
    images: [],
    deploys: false,
  },
  'monorepo-all': {
    selection: { name: 'monorepo', components: [...TEMPLATE_COMPONENTS] },
    variables: FULL,
    checked: ['api', 'jobs', 'cli', 'web', 'site'],
    images: ['api', 'jobs', 'cli', 'web', 'site'],
    deploys: true,
  },
  'monorepo-service': {
    selection: { name: 'monorepo', components: ['service'] },
    variables: { ...FULL, cache: { enabled: false } },
    checked: ['api'],
    images: ['api'],
    deploys: true,
  },
  'monorepo-worker': {
    selection: { name: 'monorepo', components: ['worker'] },
    variables: { ...BARE, cache: { enabled: true } },
    checked: ['jobs'],
    images: ['jobs'],
    deploys: true,
  },
  'monorepo-cli': {
    selection: { name: 'monorepo', components: ['cli'] },
    variables: BARE,
    checked: ['cli'],
    images: ['cli'],
    deploys: false,
  },
  'monorepo-app-react': {
    selection: { name: 'monorepo', components: ['app-react'] },
    variables: { ...BARE, siteHost: 'shop.example.com', previewPort: 5173 },
    checked: ['web'],
    images: ['web'],
    deploys: true,
  },
  'monorepo-app-astro': {
    selection: { name: 'monorepo', components: ['app-astro'] },
    variables: BARE,
    checked: ['site'],
    images: ['site'],
    deploys: true,
  },
  landing: {
    selection: { name: 'landing' },
    variables: { ...BARE, displayName: 'Shop <Landing>', siteHost: 'shop.example.com' },
    checked: ['site'],
    images: ['site'],
    deploys: true,
  },
  'go-api': {
    selection: { name: 'go-api' },
    variables: { ...BARE, gitHost: 'git.internal:3000', database: { enabled: true, engine: 'cockroachdb' } },
    checked: ['api'],
    images: ['api'],
    deploys: true,
  },
};

const rendered = Object.fromEntries(
  Object.entries(CASES).map(([name, c]) => [name, renderProjectTemplate(c.selection, c.variables)]),
) as Record<string, RenderedFile[]>;

/** One text file per case: every path, then its content. */
function manifest(files: RenderedFile[]): string {
  return files.map((f) => `==> ${f.path}${f.executable ? ' (executable)' : ''} <==\n${f.content}`).join('\n');
}

const fileOf = (files: RenderedFile[], path: string) => {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path} among ${files.map((f) => f.path).join(', ')}`);
  return file.content;
};

type Step = { name: string; image: string; settings?: Record<string, unknown>; when?: unknown } & Record<
  string,
  unknown
>;
type Pipeline = { when: { event: string | string[]; branch?: string }[]; steps: Step[] };

const events = (condition: { event: string | string[] }) =>
  Array.isArray(condition.event) ? condition.event : [condition.event];

describe('golden files', () => {
  for (const [name, files] of Object.entries(rendered)) {
    it(name, async () => {
      await expect(manifest(files)).toMatchFileSnapshot(`../fixtures/templates/${name}/manifest.txt`);
    });
  }
});

describe('every rendered repository', () => {
  for (const [name, files] of Object.entries(rendered)) {
    describe(name, () => {
      it('is sorted by path, without duplicates', () => {
        const paths = files.map((f) => f.path);
        expect(paths).toEqual([...new Set(paths)].sort());
      });

      it('has the skeleton', () => {
        const paths = files.map((f) => f.path);
        for (const path of ['README.md', '.gitignore', '.woodpecker.yml', 'Makefile', '.claude/CLAUDE.md']) {
          expect(paths).toContain(path);
        }
        expect(paths.filter((p) => p.startsWith('.claude/commands/'))).toEqual([
          '.claude/commands/deploy.md',
          '.claude/commands/review.md',
          '.claude/commands/sdlc-approve-audit.md',
          '.claude/commands/sdlc-approve-design.md',
          '.claude/commands/sdlc-approve-merge.md',
          '.claude/commands/sdlc-approve-qa-plan.md',
          '.claude/commands/sdlc-approve-review.md',
          '.claude/commands/sdlc-approve-spec.md',
          '.claude/commands/sdlc-approve-tasks.md',
          '.claude/commands/sdlc-approve.md',
          '.claude/commands/sdlc-create-audit.md',
          '.claude/commands/sdlc-create-design.md',
          '.claude/commands/sdlc-create-qa-plan.md',
          '.claude/commands/sdlc-create-review.md',
          '.claude/commands/sdlc-create-spec.md',
          '.claude/commands/sdlc-create-tasks.md',
          '.claude/commands/sdlc-fix-review-issues.md',
          '.claude/commands/sdlc-implement-task.md',
          '.claude/commands/sdlc-next.md',
          '.claude/commands/sdlc-run-qa.md',
          '.claude/commands/sdlc-run.md',
          '.claude/commands/sdlc-status.md',
          '.claude/commands/test.md',
        ]);
        expect(paths.filter((p) => p.startsWith('.sdlc/'))).toEqual(['.sdlc/config.yaml']);
      });

      it('has clean text: a final newline, no trailing blanks, no leaked template values', () => {
        for (const file of files) {
          // What the pipeline's check step (git diff --check) would refuse.
          expect(file.content.endsWith('\n') && !file.content.endsWith('\n\n'), file.path).toBe(true);
          expect(file.content, file.path).not.toMatch(/[ \t]+$/m);
          expect(file.content, file.path).not.toMatch(/\[object Object\]|<%|%>/);
          expect(file.content, file.path).not.toContain('\r');
        }
      });

      it('has structured files that parse', () => {
        for (const file of files) {
          if (file.path.endsWith('.json')) expect(() => JSON.parse(file.content), file.path).not.toThrow();
          if (/\.ya?ml$/.test(file.path)) {
            for (const doc of parseAllDocuments(file.content) as unknown as { errors: unknown[] }[]) {
              expect(doc.errors, file.path).toEqual([]);
            }
          }
        }
      });

      it('has package.json files with the scripts the Makefile and CI call', () => {
        for (const file of files.filter((f) => f.path.endsWith('package.json'))) {
          const pkg = JSON.parse(file.content) as { name: string; private: boolean; scripts: object };
          expect(pkg.name).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
          expect(pkg.private).toBe(true);
          expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(['dev', 'lint', 'test', 'build']));
        }
      });

      it('deploys exactly what the kustomization lists', () => {
        const kustomization = files.find((f) => f.path === 'deploy/kustomization.yaml');
        const deployFiles = files.filter((f) => f.path.startsWith('deploy/') && f !== kustomization);
        if (!kustomization) {
          expect(deployFiles).toEqual([]);
          return;
        }
        const k = parseYaml(kustomization.content) as {
          namespace: string;
          resources: string[];
          images?: { name: string }[];
        };
        expect(k.namespace).toBe('team');
        expect(k.resources.map((r) => `deploy/${r}`).sort()).toEqual(deployFiles.map((f) => f.path));
        const images = deployFiles.flatMap((f) =>
          parseAllDocuments(f.content)
            .map(
              (d) =>
                d.toJS() as {
                  kind: string;
                  spec?: { template?: { spec: { containers: { image: string }[] } } };
                },
            )
            .flatMap((o) => o.spec?.template?.spec.containers.map((c) => c.image) ?? []),
        );
        expect(images.sort()).toEqual((k.images ?? []).map((i) => i.name).sort());
      });
    });
  }
});

describe('the CI pipeline', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`of ${name} has the steps its units need and allows manual runs`, () => {
      const pipeline = parseYaml(fileOf(rendered[name] ?? [], '.woodpecker.yml')) as Pipeline;
      expect(pipeline.when.some((w) => events(w).includes('manual'))).toBe(true);
      expect(pipeline.when.some((w) => events(w).includes('pull_request'))).toBe(true);

      const names = pipeline.steps.map((s) => s.name);
      expect(new Set(names).size).toBe(names.length);
      const expected = [
        'check',
        ...c.checked.flatMap((id) => [`${id}-lint`, `${id}-test`]),
        ...c.images.map((id) => `${id}-image`),
        ...(c.deploys ? ['deploy'] : []),
      ];
      expect(names).toEqual(expected);

      for (const step of pipeline.steps) {
        expect(step.image, step.name).toMatch(/^[a-z0-9./-]+(:[A-Za-z0-9._-]+)?$/);
        expect('commands' in step !== 'settings' in step, step.name).toBe(true);
      }
      // Images and deployments: only from the default branch, on a push or a manual run.
      for (const step of pipeline.steps.filter((s) => s.name.endsWith('-image') || s.name === 'deploy')) {
        expect(step.when, step.name).toEqual([{ event: ['push', 'manual'], branch: 'main' }]);
      }
      for (const step of pipeline.steps.filter((s) => s.name.endsWith('-image'))) {
        expect(step.image).toBe('woodpeckerci/plugin-kaniko');
        expect(step.settings).toMatchObject({
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Woodpecker substitutes it, not JavaScript
          tags: ['${CI_COMMIT_SHA}', 'latest'],
          username: { from_secret: 'registry_username' },
          password: { from_secret: 'registry_password' },
        });
        const dir = (step.settings as { context: string }).context;
        expect(rendered[name]?.map((f) => f.path)).toContain(
          dir === '.' ? 'Dockerfile' : `${dir}/Dockerfile`,
        );
      }
    });
  }

  it('pushes images under the derived registry and repository', () => {
    const all = parseYaml(fileOf(rendered['monorepo-all'] ?? [], '.woodpecker.yml')) as Pipeline;
    expect(all.steps.find((s) => s.name === 'web-image')?.settings).toMatchObject({
      registry: 'git.example.com',
      repo: 'team/shop-web',
      dockerfile: 'apps/web/Dockerfile',
      context: 'apps/web',
    });
    const goApi = parseYaml(fileOf(rendered['go-api'] ?? [], '.woodpecker.yml')) as Pipeline;
    expect(goApi.steps.find((s) => s.name === 'api-image')?.settings).toMatchObject({
      registry: 'git.internal:3000',
      repo: 'team/shop',
      context: '.',
    });
  });
});

describe('Go code', () => {
  const root = mkdtempSync(join(tmpdir(), 'rdev-templates-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const gofmt = (() => {
    const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
    const inGoroot = join(goroot, 'bin', 'gofmt');
    return existsSync(inGoroot) ? inGoroot : 'gofmt';
  })();
  const unformatted = (dir: string) =>
    execFileSync(gofmt, ['-l', dir], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();

  it('is what gofmt writes, in every template', () => {
    let count = 0;
    for (const [name, files] of Object.entries(rendered)) {
      for (const file of files.filter((f) => f.path.endsWith('.go'))) {
        const path = join(root, name, file.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, file.content);
        count++;
      }
    }
    expect(count).toBeGreaterThan(10);
    expect(unformatted(root)).toEqual([]);
    // The check can fail: gofmt does report a file it would change.
    writeFileSync(join(root, 'bad.go'), 'package main\nfunc  main( ) {}\n');
    expect(unformatted(root)).toEqual([join(root, 'bad.go')]);
  });

  it('has go.mod files naming the module of their directory, on one Go version', () => {
    const all = rendered['monorepo-all'] ?? [];
    expect(fileOf(all, 'services/api/go.mod')).toMatch(
      /^module git\.example\.com\/team\/shop\/services\/api\n\ngo 1\.26\.0\n/,
    );
    expect(fileOf(all, 'cli/go.mod')).toMatch(/^module git\.example\.com\/team\/shop\/cli\n/);
    expect(fileOf(all, 'go.work')).toBe(
      'go 1.26.0\n\nuse (\n\t./services/api\n\t./workers/jobs\n\t./cli\n)\n',
    );
    expect(fileOf(rendered['go-api'] ?? [], 'go.mod')).toMatch(/^module git\.internal\/team\/shop\n/);
    // go.work only joins the modules of a monorepo.
    expect(rendered['go-api']?.map((f) => f.path)).not.toContain('go.work');
  });

  it('has go.mod files that Go accepts, without the network', () => {
    const cache = mkdtempSync(join(tmpdir(), 'rdev-gomodcache-'));
    const env = { ...process.env, GOWORK: 'off', GOPROXY: 'off', GOFLAGS: '-mod=mod', GOMODCACHE: cache };
    try {
      for (const [name, files] of Object.entries(rendered)) {
        for (const mod of files.filter((f) => f.path === 'go.mod' || f.path.endsWith('/go.mod'))) {
          const dir = join(root, 'modules', name, dirname(mod.path));
          mkdirSync(dir, { recursive: true });
          writeFileSync(join(dir, 'go.mod'), mod.content);
          const module = /^module (\S+)$/m.exec(mod.content)?.[1];
          expect(execFileSync('go', ['list', '-m'], { cwd: dir, env, encoding: 'utf8' }).trim()).toBe(module);
        }
      }
      // The check can fail: Go refuses a malformed module path.
      const bad = join(root, 'modules', 'bad');
      mkdirSync(bad, { recursive: true });
      writeFileSync(join(bad, 'go.mod'), 'module git.example.com:3000/shop\n\ngo 1.26.0\n');
      expect(() => execFileSync('go', ['list', '-m'], { cwd: bad, env, stdio: 'pipe' })).toThrow(
        /malformed module path/,
      );
    } finally {
      execFileSync('chmod', ['-R', 'u+w', cache]);
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('of the command-line tool builds and passes its tests (it needs nothing but the standard library)', () => {
    const dir = join(root, 'cli-build');
    for (const file of (rendered['monorepo-cli'] ?? []).filter((f) => f.path.startsWith('cli/'))) {
      mkdirSync(dirname(join(dir, file.path)), { recursive: true });
      writeFileSync(join(dir, file.path), file.content);
    }
    const env = { ...process.env, GOWORK: 'off', GOPROXY: 'off', GOFLAGS: '-mod=mod' };
    execFileSync('go', ['vet', './...'], { cwd: join(dir, 'cli'), env, stdio: 'pipe' });
    const out = execFileSync('go', ['test', './...'], { cwd: join(dir, 'cli'), env, encoding: 'utf8' });
    expect(out).toMatch(/^ok\s+team\/shop\/cli\s/m);
  }, 120_000);

  it('reads the environment variables the operator provides', () => {
    const all = rendered['monorepo-all'] ?? [];
    expect(fileOf(all, 'services/api/main.go')).toContain('os.Getenv("DATABASE_URL")');
    expect(fileOf(all, 'workers/jobs/main.go')).toContain('os.Getenv("REDIS_URL")');
    expect(fileOf(all, 'workers/jobs/main.go')).toContain('os.Getenv("REDIS_KEY_PREFIX")');
    expect(fileOf(all, 'cli/main.go')).toContain('const name = "shop"');
  });
});

describe('versions', () => {
  it('are the same Go and Node versions in every template file', () => {
    const tree = loadTemplateTree(DEFAULT_TEMPLATES_DIR);
    const found = new Set<string>();
    for (const { content } of tree.values()) {
      for (const m of content.matchAll(/golang:(\d+\.\d+)-alpine|^go (\d+\.\d+)\.0$/gm))
        found.add(`go ${m[1] ?? m[2]}`);
      for (const m of content.matchAll(/node:(\d+)-alpine|"node": ">=(\d+)"/g))
        found.add(`node ${m[1] ?? m[2]}`);
    }
    expect([...found].sort()).toEqual(['go 1.26', 'node 24']);
  });
});

describe('documentation', () => {
  it('tells the agent the layout, the commands and the environment', () => {
    const claude = fileOf(rendered['monorepo-all'] ?? [], '.claude/CLAUDE.md');
    for (const dir of ['services/api', 'workers/jobs', 'cli', 'apps/web', 'apps/site']) {
      expect(claude).toContain(`### \`${dir}\``);
    }
    expect(claude).toContain('make lint');
    expect(claude).toContain('`DATABASE_URL`');
    expect(claude).toContain('`$REDIS_KEY_PREFIX`');
    expect(claude).toContain('the Secret `shop-database`');
    const bare = fileOf(rendered['monorepo-empty'] ?? [], '.claude/CLAUDE.md');
    expect(bare).toContain('No database: `DATABASE_URL` is unset');
  });

  it('lists every component in the README', () => {
    const readme = fileOf(rendered['monorepo-all'] ?? [], 'README.md');
    for (const dir of ['services/api/', 'workers/jobs/', 'cli/', 'apps/web/', 'apps/site/']) {
      expect(readme).toContain(`| \`${dir}\` |`);
    }
  });

  it('escapes the display name where it lands in HTML, JSON and code', () => {
    const landing = rendered.landing ?? [];
    expect(fileOf(landing, 'src/lib/site.ts')).toContain('name: "Shop <Landing>"');
    const all = rendered['monorepo-all'] ?? [];
    expect(fileOf(all, 'apps/web/index.html')).toContain('<title>Shop &#38; Co</title>');
    expect(fileOf(all, 'apps/web/src/config.ts')).toContain('export const appName = "Shop & Co";');
  });
});

describe('composition', () => {
  it('does not depend on the order of the components', () => {
    const a = renderProjectTemplate({ name: 'monorepo', components: ['app-react', 'service'] }, FULL);
    const b = renderProjectTemplate({ name: 'monorepo', components: ['service', 'app-react'] }, FULL);
    expect(a).toEqual(b);
  });

  it('wires a web app to the API when both are there', () => {
    const both = renderProjectTemplate({ name: 'monorepo', components: ['service', 'app-react'] }, FULL);
    expect(fileOf(both, 'apps/web/vite.config.ts')).toContain("proxy: { '/api': 'http://localhost:8080' }");
    expect(both.map((f) => f.path)).toContain('apps/web/src/api.ts');
    const ingress = parseYaml(fileOf(both, 'deploy/ingress.yaml')) as {
      spec: { rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] };
    };
    expect(ingress.spec.rules[0]?.http.paths.map((p) => [p.path, p.backend.service.name])).toEqual([
      ['/api', 'shop-api'],
      ['/', 'shop-web'],
    ]);
    const alone = rendered['monorepo-app-react'] ?? [];
    expect(fileOf(alone, 'apps/web/vite.config.ts')).not.toContain('proxy');
    expect(fileOf(alone, 'apps/web/vite.config.ts')).toContain('port: 5173,');
    expect(alone.map((f) => f.path)).not.toContain('apps/web/src/api.ts');
  });

  it('gives pods the Secrets of the resources they use, and only when they exist', () => {
    const all = rendered['monorepo-all'] ?? [];
    expect(fileOf(all, 'deploy/api.yaml')).toContain('name: shop-database');
    expect(fileOf(all, 'deploy/jobs.yaml')).toContain('name: shop-cache');
    expect(fileOf(rendered['monorepo-service'] ?? [], 'deploy/api.yaml')).toContain('name: shop-database');
    const noCache = renderProjectTemplate({ name: 'monorepo', components: ['worker'] }, BARE);
    expect(fileOf(noCache, 'deploy/jobs.yaml')).toContain('replicas: 0');
    expect(fileOf(noCache, 'deploy/jobs.yaml')).not.toContain('secretRef');
  });

  it('takes the files a unit includes as its own, and its own files win', () => {
    const goApi = rendered['go-api'] ?? [];
    const service = rendered['monorepo-service'] ?? [];
    expect(fileOf(goApi, 'server.go')).toBe(fileOf(service, 'services/api/server.go'));
    expect(fileOf(goApi, '.dockerignore')).toMatch(/^\.git\/\n/);
    expect(fileOf(service, 'services/api/.dockerignore')).not.toContain('.git/');
    // Rendered in the including unit: the shared Dockerfile builds each unit's own binary.
    expect(fileOf(goApi, 'Dockerfile')).toContain('ENTRYPOINT ["/api"]');
    expect(fileOf(rendered['monorepo-worker'] ?? [], 'workers/jobs/Dockerfile')).toContain(
      'ENTRYPOINT ["/jobs"]',
    );
    // An include that lists files takes only those.
    expect(fileOf(rendered.landing ?? [], 'src/pages/404.astro')).toBe(
      fileOf(rendered['monorepo-app-astro'] ?? [], 'apps/site/src/pages/404.astro'),
    );
    expect(rendered.landing?.map((f) => f.path)).not.toContain('src/pages/about.astro');
  });

  it('adds an Ingress only for a Project with a host name', () => {
    expect(rendered['monorepo-app-astro']?.map((f) => f.path)).not.toContain('deploy/ingress.yaml');
    expect(fileOf(rendered.landing ?? [], 'deploy/ingress.yaml')).toContain('host: shop.example.com');
  });
});

describe('refusals', () => {
  const refuse = (selection: TemplateSelection, message: RegExp, variables = FULL) => {
    expect(() => renderProjectTemplate(selection, variables)).toThrow(TemplateError);
    expect(() => renderProjectTemplate(selection, variables)).toThrow(message);
  };

  it('names an unknown template or component', () => {
    refuse({ name: 'rails' }, /unknown template "rails": expected one of "monorepo", "landing", "go-api"/);
    refuse({ name: 'monorepo', components: ['service', 'mobile'] }, /unknown component "mobile"/);
    refuse({ name: 'landing', components: ['service'] }, /the template "landing" takes no components/);
    refuse({ name: 'monorepo', components: ['cli', 'cli'] }, /component "cli" is listed more than once/);
  });

  it('names the invalid variables', () => {
    refuse({ name: 'go-api' }, /invalid template variables: namespace:/, { ...FULL, namespace: 'Team!' });
    refuse({ name: 'go-api' }, /repo\.fullName/, { ...FULL, repo: { fullName: '../etc' } });
    refuse({ name: 'go-api' }, /displayName/, { ...FULL, displayName: 'two\nlines' });
  });
});

describe('a broken template tree', () => {
  const real = loadTemplateTree(DEFAULT_TEMPLATES_DIR);
  const withFiles = (extra: Record<string, TreeFile>, without: string[] = []) => {
    const tree = new Map(real);
    for (const path of without) tree.delete(path);
    for (const [path, file] of Object.entries(extra)) tree.set(path, file);
    return tree;
  };
  const render =
    (
      tree: Map<string, TreeFile>,
      selection: TemplateSelection = { name: 'monorepo', components: ['service'] },
    ) =>
    () =>
      renderTemplateTree(tree, selection, FULL);

  it('is refused when a path leaves the repository', () => {
    for (const path of [
      'components/service/files/../../../outside',
      'skeleton/../escape',
      'skeleton/.git/hooks/post-checkout',
    ]) {
      expect(render(withFiles({ [path]: { content: 'x\n' } })), path).toThrow(
        /is not a relative path inside the repository/,
      );
    }
    const unit = JSON.parse(real.get('components/service/unit.json')?.content ?? '{}') as { dir: string };
    unit.dir = '../elsewhere';
    expect(render(withFiles({ 'components/service/unit.json': { content: JSON.stringify(unit) } }))).toThrow(
      /components\/service\/unit\.json: dir/,
    );
  });

  it('refuses symbolic links on disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdev-template-tree-'));
    try {
      mkdirSync(join(dir, 'skeleton'));
      symlinkSync('/etc/passwd', join(dir, 'skeleton', 'README.md'));
      expect(() => loadTemplateTree(dir)).toThrow(/only regular files and directories/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is refused when two sources write the same path', () => {
    expect(render(withFiles({ 'skeleton/deploy/api.yaml': { content: 'a: 1\n' } }))).toThrow(
      'deploy/api.yaml is written by both components/service/parts/deploy.yaml.eta and skeleton/deploy/api.yaml',
    );
    expect(
      render(withFiles({ 'landing/files/README.md': { content: '# x\n' } }), { name: 'landing' }),
    ).toThrow(/README\.md is written by both landing\/files\/README\.md and skeleton\/README\.md\.eta/);
    const worker = JSON.parse(real.get('components/worker/unit.json')?.content ?? '{}') as { dir: string };
    worker.dir = 'services/api';
    expect(
      render(withFiles({ 'components/worker/unit.json': { content: JSON.stringify(worker) } }), {
        name: 'monorepo',
        components: ['service', 'worker'],
      }),
    ).toThrow(/share an id or a directory/);
  });

  it('is refused when a template uses a value that does not exist', () => {
    expect(render(withFiles({ 'skeleton/NOTES.md.eta': { content: 'Project <%= it.nmae %>\n' } }))).toThrow(
      /skeleton\/NOTES\.md\.eta: .*interpolated undefined/s,
    );
    expect(render(withFiles({ 'skeleton/NOTES.md.eta': { content: '<%= it.nope.x %>\n' } }))).toThrow(
      /skeleton\/NOTES\.md\.eta/,
    );
  });

  it('is refused when a unit includes what the tree does not have', () => {
    const goApi = JSON.parse(real.get('go-api/unit.json')?.content ?? '{}') as object;
    const including = (include: unknown) =>
      render(withFiles({ 'go-api/unit.json': { content: JSON.stringify({ ...goApi, include }) } }), {
        name: 'go-api',
      });
    expect(including([{ from: 'components/servce' }])).toThrow(
      'go-api/unit.json: include.0.from: the template tree has no components/servce/files/ or components/servce/parts/ to include',
    );
    expect(
      including([{ from: 'components/service', files: ['files/main.go.eta', 'files/nope.go'] }]),
    ).toThrow(
      'go-api/unit.json: include.0.files.1: the template tree has no components/service/files/nope.go',
    );
    expect(including([{ from: 'components/service', files: ['unit.json'] }])).toThrow(
      /include\.0\.files\.0: a path under files\/, or parts\/ and the name of a part/,
    );
    expect(including([{ from: '../etc' }])).toThrow(/include\.0\.from: /);
    expect(including([{ from: 'go-api' }])).toThrow('go-api/unit.json: a unit cannot include its own folder');
    expect(including([{ from: 'components/service' }, { from: 'components/worker' }])).toThrow(
      /go-api\/unit\.json: files\/\.dockerignore is included from both components\/service\/files\/\.dockerignore and components\/worker\/files\/\.dockerignore/,
    );
    // Without the include, go-api is a unit without its files.
    expect(including([])).toThrow(/go-api: a web unit needs parts\/deploy\.yaml\.eta/);
  });

  it('is refused when a unit documents a file it does not write', () => {
    expect(render(withFiles({}, ['components/service/files/store.go']))).toThrow(
      'components/service/unit.json: layout names store.go, which it does not write',
    );
  });

  it('is refused when the pipeline would be invalid', () => {
    const part = real.get('components/service/parts/woodpecker.yml.eta')?.content ?? '';
    const twice = { content: `${part}${part}` };
    expect(render(withFiles({ 'components/service/parts/woodpecker.yml.eta': twice }))).toThrow(
      /\.woodpecker\.yml .* has two steps named "api-lint"/,
    );
    const broken = { content: '  - name: broken\n   image: x\n' };
    expect(render(withFiles({ 'components/service/parts/woodpecker.yml.eta': broken }))).toThrow(
      /is not valid YAML/,
    );
  });

  it('copies plain files as they are, keeps the executable bit and drops templates that render empty', () => {
    const files = renderTemplateTree(
      withFiles({
        'skeleton/bin/setup': { content: '#!/bin/sh\necho <%= it.name %>\n', executable: true },
        'skeleton/bin/hello.eta': { content: '#!/bin/sh\necho <%= it.name %>\n', executable: true },
        'skeleton/EMPTY.md.eta': { content: '<% if (false) { %>never<% } %>\n' },
      }),
      { name: 'go-api' },
      FULL,
    );
    expect(files.find((f) => f.path === 'bin/setup')).toEqual({
      path: 'bin/setup',
      content: '#!/bin/sh\necho <%= it.name %>\n',
      executable: true,
    });
    expect(files.find((f) => f.path === 'bin/hello')).toEqual({
      path: 'bin/hello',
      content: '#!/bin/sh\necho shop\n',
      executable: true,
    });
    expect(files.map((f) => f.path)).not.toContain('EMPTY.md');
  });
});

describe('the template tree', () => {
  it('has exactly the components and templates the API accepts', () => {
    expect(readdirSync(join(DEFAULT_TEMPLATES_DIR, 'components')).sort()).toEqual(
      [...TEMPLATE_COMPONENTS].sort(),
    );
    for (const name of TEMPLATE_NAMES.filter((n) => n !== 'monorepo')) {
      expect(existsSync(join(DEFAULT_TEMPLATES_DIR, name, 'unit.json')), name).toBe(true);
    }
  });

  it('can live elsewhere', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdev-template-copy-'));
    try {
      for (const [path, file] of loadTemplateTree(DEFAULT_TEMPLATES_DIR)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), path === 'skeleton/README.md.eta' ? '# Elsewhere\n' : file.content);
      }
      const files = renderProjectTemplate({ name: 'landing' }, FULL, { templatesDir: dir });
      expect(fileOf(files, 'README.md')).toBe('# Elsewhere\n');
      expect(() =>
        renderProjectTemplate({ name: 'landing' }, FULL, { templatesDir: join(dir, 'nope') }),
      ).toThrow(/cannot read the templates/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('template variables', () => {
  const project = {
    metadata: { name: 'shop', namespace: 'team' },
    spec: { database: { engine: 'postgres' } },
  };

  it('use the environment variable and Secret names of the database and cache providers', () => {
    expect(
      Object.keys(databaseSecretData(databaseIds(project as LiveProject), 'h', '5432', 'pw')).sort(),
    ).toEqual(Object.values(DATABASE_ENV).sort());
    expect(Object.keys(cacheSecretData(cacheIds(project as LiveProject), 'h', '6379', 'pw')).sort()).toEqual(
      Object.values(CACHE_ENV).sort(),
    );
    const vars = templateVariables.parse(BARE);
    expect(vars.database.secretName).toBe(databaseIds(project as LiveProject).secretName);
    expect(vars.cache.secretName).toBe(cacheIds(project as LiveProject).secretName);
  });

  it('derive the Go module path and the image', () => {
    const base = { name: 'shop', namespace: 'team', repo: { fullName: 'Team/My_Shop' } };
    expect(templateVariables.parse(base)).toMatchObject({
      displayName: 'shop',
      modulePath: 'Team/My_Shop',
      image: { registry: 'localhost:5000', repository: 'team/my-shop', name: 'localhost:5000/team/my-shop' },
      repo: { defaultBranch: 'main', owner: 'Team' },
    });
    expect(templateVariables.parse({ ...base, domain: 'example.com' })).toMatchObject({
      modulePath: 'git.example.com/Team/My_Shop',
      image: { name: 'git.example.com/team/my-shop' },
    });
    expect(
      templateVariables.parse({
        ...base,
        domain: 'example.com',
        gitHost: 'code.example.org',
        modulePath: 'example.org/shop',
        image: { registry: 'registry.example.org', repository: 'apps/shop' },
      }),
    ).toMatchObject({ modulePath: 'example.org/shop', image: { name: 'registry.example.org/apps/shop' } });
    expect(templateVariables.parse({ ...base, gitHost: 'git.internal:3000' })).toMatchObject({
      modulePath: 'git.internal/Team/My_Shop',
      image: { name: 'git.internal:3000/team/my-shop' },
    });
  });
});
