import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../operator/src/config.ts';
import { CLAUDE_CODE_VERSION, IMAGES, OPENCODE_VERSION, RDEV_VERSION } from '../../operator/src/images.ts';
import { examples } from '../support/manifests.ts';

// The images have one set of versions, hack/versions.env: hack/build-images.sh reads it, and the
// Dockerfile's ARG defaults repeat it for Docker users.
const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

function assignments(text: string, prefix: RegExp): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const { name, value } = line.match(prefix)?.groups ?? {};
    if (name !== undefined && value !== undefined) found.set(name, value);
  }
  return found;
}

const versions = assignments(read('hack/versions.env'), /^(?<name>[A-Z_]+)=(?<value>\S+)$/);
const args = assignments(read('Dockerfile'), /^ARG (?<name>[A-Z_]+)=(?<value>\S+)$/);

describe('the image versions', () => {
  it('are pinned in hack/versions.env', () => {
    for (const name of [
      'NODE_VERSION',
      'DEBIAN_SUITE',
      'NPM_VERSION',
      'CLAUDE_CODE_VERSION',
      'OPENCODE_VERSION',
    ]) {
      expect(versions.get(name), name).toMatch(/^[a-z]+$|^\d+\.\d+\.\d+$/);
    }
  });

  it('are the Dockerfile ARG defaults too (bump both together)', () => {
    const shared = [...args.keys()].filter((name) => name !== 'REVISION');
    expect(shared.length).toBeGreaterThanOrEqual(5);
    for (const name of shared) expect(`${name}=${args.get(name)}`).toBe(`${name}=${versions.get(name)}`);
  });
});

// The references the images go by (operator/src/images.ts): the archives `make images` writes are
// named with them, the release pushes them, the operator and the chart default to them.
describe('the image references', () => {
  const pkg = JSON.parse(read('package.json')) as { version: string };
  const chart = parseYaml(read('charts/rdev/Chart.yaml')) as { appVersion: string };
  const values = parseYaml(read('charts/rdev/values.yaml')) as {
    image: { repository: string; tag: string; digest: string };
    worker: { image: { repository: string; tag: string; digest: string } };
    providers: { agentImages: Record<string, { repository: string; tag: string; digest: string }> };
  };

  it('are tagged with the versions of hack/versions.env and package.json, never latest', () => {
    expect(CLAUDE_CODE_VERSION).toBe(versions.get('CLAUDE_CODE_VERSION'));
    expect(OPENCODE_VERSION).toBe(versions.get('OPENCODE_VERSION'));
    expect(RDEV_VERSION).toBe(pkg.version);
    expect(chart.appVersion).toBe(pkg.version);
    expect(IMAGES).toEqual({
      rdev: `ghcr.io/rdev-dev/rdev:${pkg.version}`,
      'workspace-claude-code': `ghcr.io/rdev-dev/workspace-claude-code:${versions.get('CLAUDE_CODE_VERSION')}`,
      'workspace-opencode': `ghcr.io/rdev-dev/workspace-opencode:${versions.get('OPENCODE_VERSION')}`,
    });
  });

  it("are the operator's default workspace images", () => {
    const config = loadConfig([], {});
    expect(config.images).toEqual({
      claudeCode: IMAGES['workspace-claude-code'],
      opencode: IMAGES['workspace-opencode'],
    });
  });

  it("are the chart's defaults, unpinned (a digest is the installer's choice)", () => {
    const ref = (v: { repository: string; tag: string }) => `${v.repository}:${v.tag || chart.appVersion}`;
    expect(ref(values.image)).toBe(IMAGES.rdev);
    expect(values.worker.image).toEqual({ repository: '', tag: '', digest: '' });
    expect(ref(values.providers.agentImages.claudeCode ?? { repository: '', tag: '' })).toBe(
      IMAGES['workspace-claude-code'],
    );
    expect(ref(values.providers.agentImages.opencode ?? { repository: '', tag: '' })).toBe(
      IMAGES['workspace-opencode'],
    );
    for (const v of [values.image, values.worker.image, ...Object.values(values.providers.agentImages)])
      expect(v.digest).toBe('');
  });

  it('are the images the examples name', () => {
    const named = examples().flatMap(({ file, manifest }) => {
      const image = (manifest.spec?.workspace as { image?: string } | undefined)?.image;
      return image ? [[file, image]] : [];
    });
    expect(named.length).toBeGreaterThan(0);
    for (const [file, image] of named) expect(Object.values(IMAGES), file).toContain(image);
  });
});
