import { describe, expect, it } from 'vitest';
import { imageAllowed, parseImage } from '../../operator/src/shared/image-allow.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseImage', () => {
  it('splits registry, port, path, tag and digest, spelling out Docker Hub names', () => {
    expect(parseImage('nginx')).toEqual({ repository: 'docker.io/library/nginx' });
    expect(parseImage('bitnami/redis:7')).toEqual({ repository: 'docker.io/bitnami/redis', tag: '7' });
    expect(parseImage('localhost:5000/app')).toEqual({ repository: 'localhost:5000/app' });
    expect(parseImage('registry.local:5000/team/app:1.2')).toEqual({
      repository: 'registry.local:5000/team/app',
      tag: '1.2',
    });
    expect(parseImage(`ghcr.io/rdev-dev/ws:1@${DIGEST}`)).toEqual({
      repository: 'ghcr.io/rdev-dev/ws',
      tag: '1',
      digest: DIGEST,
    });
    expect(parseImage('index.docker.io/library/nginx')).toEqual({ repository: 'docker.io/library/nginx' });
  });

  it('refuses what is not a reference', () => {
    for (const bad of [
      '',
      'Upper/Case',
      'ghcr.io/',
      'a//b',
      'ghcr.io/x:bad tag',
      'ghcr.io/x@sha256:short',
      'ghcr.io/../x',
    ]) {
      expect(parseImage(bad), bad).toBeUndefined();
    }
  });
});

describe('imageAllowed', () => {
  it('allows any image when no pattern is given', () => {
    expect(imageAllowed('anything/at:all', [])).toBe(true);
  });

  it('matches exactly, and an untagged pattern at any tag or digest', () => {
    const allow = ['ghcr.io/rdev-dev/workspace'];
    expect(imageAllowed('ghcr.io/rdev-dev/workspace', allow)).toBe(true);
    expect(imageAllowed('ghcr.io/rdev-dev/workspace:1.2', allow)).toBe(true);
    expect(imageAllowed(`ghcr.io/rdev-dev/workspace@${DIGEST}`, allow)).toBe(true);
    expect(imageAllowed('ghcr.io/rdev-dev/workspace-evil:1', allow)).toBe(false);
    expect(imageAllowed('ghcr.io/rdev-dev/workspace/sub:1', allow)).toBe(false);
    expect(imageAllowed('evil.io/ghcr.io/rdev-dev/workspace', allow)).toBe(false);
  });

  it('pins a tag: another tag, or the tag pinned to a digest, is refused', () => {
    const allow = ['ghcr.io/rdev-dev/workspace:1.2'];
    expect(imageAllowed('ghcr.io/rdev-dev/workspace:1.2', allow)).toBe(true);
    expect(imageAllowed('ghcr.io/rdev-dev/workspace:1.3', allow)).toBe(false);
    expect(imageAllowed('ghcr.io/rdev-dev/workspace', allow)).toBe(false);
    expect(imageAllowed(`ghcr.io/rdev-dev/workspace:1.2@${DIGEST}`, allow)).toBe(false);
  });

  it('pins a digest', () => {
    const allow = [`ghcr.io/rdev-dev/workspace@${DIGEST}`];
    expect(imageAllowed(`ghcr.io/rdev-dev/workspace@${DIGEST}`, allow)).toBe(true);
    expect(imageAllowed(`ghcr.io/rdev-dev/workspace@sha256:${'b'.repeat(64)}`, allow)).toBe(false);
    expect(imageAllowed('ghcr.io/rdev-dev/workspace:latest', allow)).toBe(false);
  });

  it('takes a prefix wildcard', () => {
    const allow = ['ghcr.io/rdev-dev/*'];
    expect(imageAllowed('ghcr.io/rdev-dev/workspace-claude-code:latest', allow)).toBe(true);
    expect(imageAllowed(`ghcr.io/rdev-dev/tools/go@${DIGEST}`, allow)).toBe(true);
    expect(imageAllowed('ghcr.io/rdev-devil/x:1', allow)).toBe(false);
    expect(imageAllowed('ghcr.io/other/x:1', allow)).toBe(false);
    expect(imageAllowed('docker.io/rdev-dev/x', allow)).toBe(false);
    expect(imageAllowed('ghcr.io/rdev-dev/x:*', ['ghcr.io/rdev-dev/x:v*'])).toBe(false);
    expect(imageAllowed('ghcr.io/rdev-dev/x:v2', ['ghcr.io/rdev-dev/x:v*'])).toBe(true);
    expect(imageAllowed('anything.io/at:all', ['*'])).toBe(true);
  });

  it('keeps a registry port apart from a tag', () => {
    const allow = ['registry.local:5000/*'];
    expect(imageAllowed('registry.local:5000/team/app:1.2', allow)).toBe(true);
    expect(imageAllowed('registry.local:5001/team/app:1.2', allow)).toBe(false);
    expect(imageAllowed('registry.local/team/app', allow)).toBe(false);
    expect(imageAllowed('localhost:5000/app:dev', ['localhost:5000/app'])).toBe(true);
    expect(imageAllowed('localhost:5000/app:dev', ['localhost:5000/app:main'])).toBe(false);
  });

  it('spells out Docker Hub names on both sides', () => {
    expect(imageAllowed('nginx:1.27', ['docker.io/library/nginx'])).toBe(true);
    expect(imageAllowed('docker.io/library/nginx:1.27', ['nginx'])).toBe(true);
    expect(imageAllowed('bitnami/redis', ['docker.io/bitnami/*'])).toBe(true);
    expect(imageAllowed('nginx', ['ghcr.io/*'])).toBe(false);
  });

  it('refuses an image that is not a valid reference', () => {
    expect(imageAllowed('ghcr.io/rdev-dev/../x', ['ghcr.io/rdev-dev/*'])).toBe(false);
    expect(imageAllowed('GHCR.io/rdev-dev/X', ['*'])).toBe(false);
  });
});
