import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SUMMARIES } from './summaries.ts';

const pkg = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')));

/** A command, loaded when it runs: one process runs one command and loads only what that needs. */
interface Entry {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const lazy = (summary: string, load: () => Promise<{ run(argv: string[]): Promise<number> }>): Entry => ({
  summary,
  run: async (argv) => (await load()).run(argv),
});

const commands: Record<string, Entry> = {
  operator: lazy(SUMMARIES.operator, async () => (await import('./operator.ts')).operatorCommand),
  shim: lazy(SUMMARIES.shim, async () => (await import('./shim.ts')).shimCommand),
  worker: lazy(SUMMARIES.worker, async () => (await import('./worker.ts')).workerCommand),
  version: {
    summary: 'print the rdev version',
    async run() {
      console.log(pkg.version);
      return 0;
    },
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "rdev: run AI coding agents in isolated Kubernetes pods, with each project's repo, CI, database, cache and DNS",
    '',
    'Usage: rdev <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `rdev <command> --help` for the options of a command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === '--version') return commands.version?.run([]) ?? 1;
  const command = commands[name];
  if (!command) {
    console.error(`rdev: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}
