// The skeleton's side of the Feature lifecycle: a command for every action an agent performs (the
// first line of its WorkItem's prompt names it), and .sdlc/config.yaml saying what the controller
// does. Both are read by agents only, so nothing else notices when they drift from the code.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FEATURE_PHASES } from '../../operator/src/api/v1alpha1/feature.ts';
import { TEMPLATE_COMPONENTS } from '../../operator/src/api/v1alpha1/project.ts';
import { commandOf } from '../../operator/src/controllers/feature/action.ts';
import { APPROVALS_FILE, parseVerdicts } from '../../operator/src/controllers/feature/artifacts.ts';
import {
  ACTIONS,
  type Action,
  ARTIFACT_FILES,
  HEAVY_ACTIONS,
  REQUIRED_ARTIFACTS,
  RULES,
} from '../../operator/src/controllers/feature/classify.ts';
import { type RenderedFile, renderProjectTemplate } from '../../operator/src/templates/render.ts';
import { TEMPLATE_NAMES, type TemplateName } from '../../operator/src/templates/variables.ts';

/** What the operator or a human does: no agent, so no command. */
const NOT_AGENT_ACTIONS: readonly Action[] = [
  'merge',
  'transition',
  'wait_for_approval',
  'wait_for_dependencies',
  'done',
];
const AGENT_ACTIONS = ACTIONS.filter((a) => !NOT_AGENT_ACTIONS.includes(a));
/** The lifecycle's commands that are no action of their own. */
const EXTRA_COMMANDS = ['sdlc-next', 'sdlc-run', 'sdlc-status', 'sdlc-approve'];

const variables = { name: 'shop', namespace: 'team', repo: { fullName: 'team/shop' } };
const rendered: Record<string, RenderedFile[]> = Object.fromEntries(
  TEMPLATE_NAMES.flatMap((name: TemplateName) =>
    name === 'monorepo'
      ? [
          ['monorepo-empty', renderProjectTemplate({ name }, variables)],
          ['monorepo-all', renderProjectTemplate({ name, components: [...TEMPLATE_COMPONENTS] }, variables)],
        ]
      : [[name, renderProjectTemplate({ name }, variables)]],
  ),
);

const commandPath = (name: string) => `.claude/commands/${name}.md`;
/** The command an action's prompt starts with, as a file. */
const pathOf = (action: string) => commandPath(commandOf(action).slice(1));
const contentOf = (files: RenderedFile[], path: string) => {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path}`);
  return file.content;
};
const oneLine = (text: string) => text.replace(/\s+/g, ' ');

describe('the lifecycle commands', () => {
  it('leave out exactly the actions nobody runs as an agent', () => {
    for (const a of NOT_AGENT_ACTIONS) expect(ACTIONS).toContain(a);
    expect(AGENT_ACTIONS).toHaveLength(16);
  });

  for (const [template, files] of Object.entries(rendered)) {
    describe(template, () => {
      it('has a command for every action an agent performs, and none for the others', () => {
        const paths = files.map((f) => f.path);
        for (const action of AGENT_ACTIONS) expect(paths, action).toContain(pathOf(action));
        for (const action of NOT_AGENT_ACTIONS) expect(paths, action).not.toContain(pathOf(action));
        for (const name of EXTRA_COMMANDS) expect(paths).toContain(commandPath(name));
      });

      it('gives every command a description, and the agents the rules of the runner', () => {
        for (const path of [...AGENT_ACTIONS.map(pathOf), ...EXTRA_COMMANDS.map(commandPath)]) {
          const content = contentOf(files, path);
          expect(content, path).toMatch(/^---\ndescription: \S.*\n(argument-hint: .*\n)?---\n\n/);
          expect(content.split('\n').length, path).toBeLessThanOrEqual(45);
        }
        for (const action of AGENT_ACTIONS) {
          const content = oneLine(contentOf(files, pathOf(action)));
          expect(content, action).toMatch(/never run `git commit`/);
          expect(content, action).toMatch(/never touch the Feature resource or its `spec\.approvals`/i);
        }
      });

      it('names the file each action writes, and has every verdict recorded as approvals.yaml reads it', () => {
        for (const rule of RULES) {
          if (!rule.artifact || NOT_AGENT_ACTIONS.includes(rule.action)) continue;
          const content = contentOf(files, pathOf(rule.action));
          if (rule.action === 'fix_review_issues') {
            expect(content).toContain(ARTIFACT_FILES[rule.artifact]);
            continue;
          }
          if (!rule.action.startsWith('approve_')) {
            expect(content, rule.action).toContain(`\`${ARTIFACT_FILES[rule.artifact]}\``);
            continue;
          }
          expect(content, rule.action).toContain('git hash-object');
          const example = /```yaml\n([\s\S]*?)```/.exec(content)?.[1] ?? '';
          const { verdicts, ignored } = parseVerdicts(example.replace(/^ {3}/gm, ''));
          expect(ignored, rule.action).toBe(0);
          expect(verdicts, rule.action).toEqual([
            expect.objectContaining({ artifact: rule.artifact, by: 'agent' }),
          ]);
          const good = rule.artifact === 'qa_results' ? ['passed', 'failed'] : ['approved', 'rejected'];
          expect(content, rule.action).toContain(`verdict: ${good[0]}`);
          expect(content, rule.action).toContain(`# or ${good[1]}`);
        }
      });
    });
  }
});

describe('.sdlc/config.yaml', () => {
  const config = parseYaml(contentOf(rendered['monorepo-empty'] ?? [], '.sdlc/config.yaml')) as {
    phases: { order: string[]; required_artifacts: Record<string, string[]> };
    artifacts: Record<string, string>;
    approvals: { file: string; entry: unknown };
    timeouts: { heavy: string; default: string; heavy_actions: string[] };
  };

  it('says what the controller does: phases, required artifacts, files, approvals, timeouts', () => {
    expect(config.phases.order).toEqual([...FEATURE_PHASES]);
    expect(config.phases.required_artifacts).toEqual(REQUIRED_ARTIFACTS);
    expect(config.artifacts).toEqual(ARTIFACT_FILES);
    expect(config.approvals.file).toBe(APPROVALS_FILE);
    expect(parseVerdicts(JSON.stringify([config.approvals.entry])).ignored).toBe(0);
    expect(config.timeouts).toEqual({ heavy: '45m', default: '10m', heavy_actions: [...HEAVY_ACTIONS] });
  });

  it('is the same in every template', () => {
    for (const files of Object.values(rendered)) {
      expect(contentOf(files, '.sdlc/config.yaml')).toBe(
        contentOf(rendered['monorepo-empty'] ?? [], '.sdlc/config.yaml'),
      );
    }
  });
});
