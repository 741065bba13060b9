import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SHIM_OPTIONS } from '../../api-shim/src/config.ts';
import { OPTIONS } from '../../operator/src/config.ts';
import {
  ConfigError,
  configHelp,
  kubeconfigField,
  loadOptions,
  logLevelField,
  optionsOf,
  redactedConfig,
} from '../../operator/src/shared/options.ts';
import { WORKER_OPTIONS } from '../../operator/src/worker/config.ts';

const sample = z.object({
  kubeconfig: kubeconfigField,
  name: z
    .string()
    .min(1)
    .meta({ option: { flag: 'name', env: 'T_NAME', help: 'a name', default: 'dflt' } }),
  tags: z.array(z.string()).meta({ option: { flag: 'tag', env: 'T_TAGS', help: 'tags', default: [] } }),
  db: z
    .object({
      url: z
        .string()
        .optional()
        .meta({ option: { flag: 'db-url', env: 'T_DB_URL', help: 'database URL', secret: true } }),
      pool: z
        .number()
        .int()
        .max(10)
        .meta({ option: { flag: 'db-pool', env: 'T_DB_POOL', help: 'connections', default: 2 } }),
      tls: z.boolean().meta({ option: { flag: 'db-tls', env: 'T_DB_TLS', help: 'use TLS', default: false } }),
    })
    .describe('not an option itself: its fields are'),
  logLevel: logLevelField,
});

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rdev-options-')), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

describe('options declared on config schemas', () => {
  it('are found by walking the schema, nested objects included, in field order', () => {
    expect(optionsOf(sample).map((o) => [o.flag, o.path.join('.'), o.kind])).toEqual([
      ['kubeconfig', 'kubeconfig', 'string'],
      ['name', 'name', 'string'],
      ['tag', 'tags', 'list'],
      ['db-url', 'db.url', 'string'],
      ['db-pool', 'db.pool', 'number'],
      ['db-tls', 'db.tls', 'boolean'],
      ['log-level', 'logLevel', 'string'],
    ]);
  });

  it('refuses an option on a field no flag can fill', () => {
    const odd = z.object({
      when: z.date().meta({ option: { flag: 'when', env: 'T_WHEN', help: 'a date' } }),
    });
    expect(() => optionsOf(odd)).toThrow(/when: a date field cannot be an option/);
  });

  it('take flags over environment variables over the config file over defaults', () => {
    const file = configFile('name: from-file\ndb:\n  pool: 5\n  tls: "yes"\ntags: [a, b]\n');
    expect(loadOptions(sample, [], {})).toEqual({
      name: 'dflt',
      tags: [],
      db: { pool: 2, tls: false },
      logLevel: 'info',
    });
    expect(loadOptions(sample, [`--config=${file}`], { T_DB_POOL: '7' })).toEqual({
      name: 'from-file',
      tags: ['a', 'b'],
      db: { pool: 7, tls: true },
      logLevel: 'info',
    });
    expect(
      loadOptions(sample, ['--name=flag', '--tag=x,y', '--tag', 'z', '--db-tls'], {
        RDEV_CONFIG: file,
        T_NAME: 'env',
        T_DB_TLS: 'false',
      }),
    ).toMatchObject({ name: 'flag', tags: ['x', 'y', 'z'], db: { pool: 5, tls: true } });
  });

  it('name the flag of a value the schema refuses', () => {
    expect(() => loadOptions(sample, ['--db-pool=11'], {})).toThrow(ConfigError);
    expect(() => loadOptions(sample, ['--db-pool=11'], {})).toThrow(/^--db-pool: /);
    expect(() => loadOptions(sample, [], { T_DB_POOL: 'many' })).toThrow(
      '$T_DB_POOL: expected a number, got "many"',
    );
    expect(() => loadOptions(sample, ['--log-level=loud'], {})).toThrow(/^--log-level: /);
  });

  it('give --help its rows: flag, help, variable, config path and default', () => {
    const help = configHelp(sample).split('\n');
    expect(help[0]).toMatch(/^ {2}--config FILE +YAML or JSON file/);
    expect(help).toContain('  --db-pool VALUE     connections ($T_DB_POOL; config: db.pool) [default: 2]');
    expect(help).toContain('  --tag LIST          tags ($T_TAGS; config: tags)');
    expect(help).toContain('  --db-tls            use TLS ($T_DB_TLS; config: db.tls) [default: false]');
  });

  it('mask secret options when the configuration is printed', () => {
    const config = loadOptions(sample, ['--db-url=postgres://u:p@db/x'], {});
    expect(redactedConfig(config, sample)).toMatchObject({ db: { url: '[redacted]', pool: 2 } });
    expect(config.db.url).toBe('postgres://u:p@db/x');
    expect(redactedConfig(loadOptions(sample, [], {}), sample).db).toEqual({ pool: 2, tls: false });
  });

  it('are unique per command, and the shared ones are the same everywhere', () => {
    for (const table of [OPTIONS, WORKER_OPTIONS, SHIM_OPTIONS]) {
      expect(new Set(table.map((o) => o.flag)).size).toBe(table.length);
      expect(new Set(table.map((o) => o.path.join('.'))).size).toBe(table.length);
      expect(table.find((o) => o.flag === 'kubeconfig')?.path).toEqual(['kubeconfig']);
      expect(table.find((o) => o.flag === 'log-level')?.default).toBe('info');
    }
    expect(OPTIONS.find((o) => o.flag === 'health-addr')).toEqual(
      WORKER_OPTIONS.find((o) => o.flag === 'health-addr'),
    );
  });
});
