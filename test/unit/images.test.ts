import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

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
