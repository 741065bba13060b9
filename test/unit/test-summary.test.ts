import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '..', '..', 'hack', 'test-summary.ts');

function summarize(reports: Record<string, object>) {
  const dir = mkdtempSync(join(tmpdir(), 'rdev-summary-'));
  for (const [name, report] of Object.entries(reports))
    writeFileSync(join(dir, name), JSON.stringify(report));
  const run = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
  return { line: run.stdout.trim(), status: run.status };
}

const file = (status: string, tests: number) => ({ status, assertionResults: Array(tests).fill({}) });

describe('test summary', () => {
  it('adds up the tiers into one line and succeeds when nothing failed', () => {
    expect(
      summarize({
        'unit.json': { numPassedTests: 7, numFailedTests: 0, testResults: [file('passed', 7)] },
        'integration.json': { numPassedTests: 5, numFailedTests: 0, testResults: [file('passed', 5)] },
      }),
    ).toEqual({ line: '12 passed, 0 failed', status: 0 });
  });

  it('counts failed tests and files that failed to load, and fails', () => {
    expect(
      summarize({
        'unit.json': {
          numPassedTests: 3,
          numFailedTests: 1,
          testResults: [file('failed', 4), file('failed', 0)],
        },
      }),
    ).toEqual({ line: '3 passed, 2 failed', status: 1 });
  });

  it('reports zero when no tier produced a report', () => {
    expect(summarize({})).toEqual({ line: '0 passed, 0 failed', status: 0 });
  });
});
