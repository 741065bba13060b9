// docs/configuration.md: every option of `rdev operator`, `rdev worker` and `rdev shim`, from
// the option tables derived from their config schemas (flag, environment variable, config path,
// default).
import { SHIM_OPTIONS } from '../../api-shim/src/config.ts';
import { OPTIONS } from '../../operator/src/config.ts';
import { defaultText, hasDefault, type OptionSpec } from '../../operator/src/shared/options.ts';
import { WORKER_OPTIONS } from '../../operator/src/worker/config.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The default as docs/ show it: a machine-dependent one (the host name) by what it stands for. */
function shownDefault(o: OptionSpec): string {
  if (!hasDefault(o)) return '';
  return o.shownDefault ?? `\`${defaultText(o)}\``;
}

function table(options: OptionSpec[]): string {
  const rows = options.map(
    (o) =>
      `| \`--${o.flag}\` | \`${o.env}\` | \`${o.path.join('.')}\` | ${shownDefault(o)} | ${cell(o.help)} |`,
  );
  return [
    '| flag | environment | config file | default | what it does |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export function configurationReference(): string {
  return `# Configuration reference

Generated from the option tables of the CLI by \`make docs\`; do not edit.

Each command reads its options from flags, then environment variables, then a YAML or JSON file
named by \`--config\` (or \`$RDEV_CONFIG\`) keyed by the config path, then the defaults. The
configuration is validated at start and printed with secrets redacted. Provider credentials are
always Secret references (\`namespace/name\`), never values.

## rdev operator

${table(OPTIONS)}

## rdev worker

${table(WORKER_OPTIONS)}

## rdev shim

${table(SHIM_OPTIONS)}

\`$RDEV_BOOTSTRAP_KEY\` sets an admin API key known only to the shim process, instead of
\`--bootstrap-key-secret\`.
`;
}
