import { describe, expect, it } from 'vitest';
import type { LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { project as projectSchema } from '../../operator/src/api/v1alpha1/index.ts';
import { loadConfig } from '../../operator/src/config.ts';
import { renderRepository, templateVariablesFor } from '../../operator/src/providers/git/template.ts';
import { ciEnabled, repoEnabled } from '../../operator/src/providers/index.ts';

function live(spec: Record<string, unknown> = {}, status?: Record<string, unknown>): LiveProject {
  return projectSchema.parse({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: 'shop', namespace: 'team', uid: 'uid-1' },
    spec: { agent: { credentialsSecretRef: { name: 'anthropic' } }, ...spec },
    ...(status ? { status } : {}),
  }) as LiveProject;
}
const repo = { fullName: 'rdev/shop', gitURL: 'https://git.example.dev' };

describe('the repository template of a Project', () => {
  it('is rendered with the Project, its repository and the operator domain', () => {
    const config = loadConfig(['--domain=example.dev'], {});
    const vars = templateVariablesFor(
      live({ dns: { enabled: true, subdomain: 'store' }, database: { enabled: true } }),
      config,
      repo,
    );
    expect(vars).toMatchObject({
      name: 'shop',
      namespace: 'team',
      domain: 'example.dev',
      siteHost: 'store.example.dev',
      repo: { fullName: 'rdev/shop' },
      gitHost: 'git.example.dev',
      database: { enabled: true, engine: 'postgres' },
      cache: { enabled: false },
    });
    // The host DNS recorded wins (a name taken in the zone gets a hashed label).
    const recorded = live({ dns: { enabled: true } }, { dns: { hostnames: ['shop-1a2b.example.dev'] } });
    expect(templateVariablesFor(recorded, config, repo).siteHost).toBe('shop-1a2b.example.dev');
    expect(templateVariablesFor(live(), loadConfig([], {}), repo)).not.toHaveProperty('siteHost');
  });

  it('gives the files of the selected template and components', () => {
    const files = renderRepository(loadConfig([], {}))(
      live({ template: { name: 'monorepo', components: ['service'] } }),
      repo,
    );
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['README.md', '.woodpecker.yml', '.claude/CLAUDE.md']));
    expect(paths.some((p) => p.startsWith('service'))).toBe(true);
    expect(files.find((f) => f.path === 'README.md')?.content).toContain('shop');
  });
});

describe('repository and CI defaults', () => {
  const bare = loadConfig([], {});
  const forge = loadConfig(
    ['--gitea-url=https://git.example.dev', '--woodpecker-url=https://ci.example.dev'],
    {},
  );
  it('follow what the operator is configured with when the spec says nothing', () => {
    expect([repoEnabled(live(), bare), ciEnabled(live(), bare)]).toEqual([false, false]);
    expect([repoEnabled(live(), forge), ciEnabled(live(), forge)]).toEqual([true, true]);
  });
  it('follow the spec when it says, CI never without a repository', () => {
    expect(repoEnabled(live({ repo: { enabled: true } }), bare)).toBe(true);
    expect(repoEnabled(live({ ci: { enabled: true } }), bare)).toBe(true); // CI asks for one
    expect(ciEnabled(live({ repo: { enabled: false } }), forge)).toBe(false);
    expect(ciEnabled(live({ ci: { enabled: false } }), forge)).toBe(false);
  });
});
