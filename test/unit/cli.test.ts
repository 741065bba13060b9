import { afterEach, describe, expect, it, vi } from 'vitest';
import { SHIM_OPTIONS } from '../../api-shim/src/config.ts';
import { main, usage } from '../../operator/src/cli/main.ts';
import { OPTIONS } from '../../operator/src/config.ts';
import { WORKER_OPTIONS } from '../../operator/src/worker/config.ts';

describe('rdev CLI', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prints usage listing every command for --help', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['--help'])).toBe(0);
    expect(log).toHaveBeenCalledWith(usage());
    expect(usage()).toMatch(/^ {2}version +print the rdev version$/m);
    expect(usage()).toMatch(/^ {2}operator +run the controllers/m);
    expect(usage()).toMatch(/^ {2}shim +serve the REST API/m);
  });

  it('documents the shim options and refuses bad ones with exit code 2', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['shim', '--help'])).toBe(0);
    const help = String(log.mock.calls[0]?.[0]);
    for (const flag of [
      '--listen',
      '--namespace',
      '--bootstrap-key-secret',
      '--rate-limit',
      '--body-limit',
    ]) {
      expect(help).toContain(flag);
    }
    expect(help).toContain('$RDEV_BOOTSTRAP_KEY');
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await main(['shim', '--rate-limit=fast', '--kubeconfig=/nonexistent'])).toBe(2);
    expect(error.mock.calls[0]?.[0]).toContain('--rate-limit');
  });

  it.each([
    ['operator', OPTIONS],
    ['worker', WORKER_OPTIONS],
    ['shim', SHIM_OPTIONS],
  ])(
    'lists every option of `rdev %s` in its --help, in the order of its config schema',
    async (name, table) => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      expect(await main([name, '--help'])).toBe(0);
      const help = String(log.mock.calls[0]?.[0]);
      expect(help).toMatch(new RegExp(`^Usage: rdev ${name} \\[options\\]\n`));
      const rows = help.split('\n').filter((line) => line.startsWith('  --'));
      expect(rows.map((row) => row.trim().split(' ')[0])).toEqual([
        '--config',
        ...table.map((o) => `--${o.flag}`),
      ]);
      for (const o of table) expect(help).toContain(`$${o.env}; config: ${o.path.join('.')}`);
    },
  );

  it('refuses a bad worker option with exit code 2, naming the flag', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await main(['worker', '--capacity=0', '--kubeconfig=/nonexistent'])).toBe(2);
    expect(error.mock.calls[0]?.[0]).toMatch(/^rdev worker: --capacity: /);
    expect(error.mock.calls[0]?.[0]).toContain('Run `rdev worker --help` for the options.');
  });

  it('prints the package version', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['version'])).toBe(0);
    expect(log.mock.calls[0]?.[0]).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('rejects an unknown command with exit code 2 and names it', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await main(['frobnicate'])).toBe(2);
    expect(error.mock.calls[0]?.[0]).toContain('unknown command "frobnicate"');
  });
});
