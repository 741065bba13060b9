// WorkItem: a task for the shared pool of warm workers: an agent prompt, a shell command, or a
// build/test/deploy through the Project's CI; retried, cancellable, de-duplicated by key.
import { z } from 'zod';
import { branchName, duration, immutable, kindStatus, projectRef, timestamp, withRules } from './common.ts';
import { column, defineKind, projectColumn } from './kind.ts';

export const WORK_TYPES = ['agent', 'shell', 'build', 'test', 'deploy'] as const;

export const workItemSpec = withRules(
  z
    .object({
      projectRef: projectRef(),
      type: immutable(
        z.enum(WORK_TYPES).default('agent').meta({
          description:
            "What to run: agent (the Project's coding agent with prompt), shell (command), or build, test, deploy (the Project's CI pipeline, or command when given). Immutable.",
        }),
        'type',
      ),
      prompt: immutable(
        z
          .string()
          .min(1)
          .max(65536)
          .meta({ description: 'Instructions for the agent (type agent). Immutable.' }),
        'prompt',
      ).optional(),
      command: immutable(
        z
          .array(z.string().max(4096).meta({ description: 'An argument.' }))
          .min(1)
          .max(256)
          .meta({
            description:
              'Program and arguments to run (type shell; optional for build, test, deploy). Immutable.',
            'x-kubernetes-list-type': 'atomic',
          }),
        'command',
      ).optional(),
      priority: z.number().int().min(-1000).max(1000).default(0).meta({
        description: 'Higher runs first; equal priorities share the workers fairly across Projects.',
      }),
      maxAttempts: z
        .number()
        .int()
        .min(1)
        .max(10)
        .default(3)
        .meta({ description: 'Attempts before the item fails, with exponential backoff between them.' }),
      retryBackoff: duration(
        'Delay before the second attempt; it doubles for each later one, up to 10 minutes.',
        { min: '1s', max: '1h' },
      ).default('10s'),
      timeout: duration('How long one attempt may run before it is stopped.', {
        min: '1s',
        max: '24h',
      }).default('30m'),
      idempotencyKey: immutable(
        z
          .string()
          .min(1)
          .max(128)
          .regex(/^[A-Za-z0-9._:/-]+$/)
          .meta({
            description:
              'A second WorkItem with the same key in the same Project does not run again; its status points at the first. Immutable.',
          }),
        'idempotencyKey',
      ).optional(),
      cancel: withRules(
        z.boolean().default(false).meta({
          description: 'Setting this to true stops the item (running or queued); it cannot be undone.',
        }),
        { rule: 'self || !oldSelf', message: 'cancel cannot be undone' },
      ),
      runIn: immutable(
        z.enum(['runner', 'workspace']).default('runner').meta({
          description:
            "Where the item runs: runner (a fresh Pod of the Project, deleted after the attempt) or workspace (the Project's workspace Pod, sharing its files with Sessions). Immutable.",
        }),
        'runIn',
      ),
      git: immutable(
        z
          .object({
            baseBranch: branchName(
              'Branch a new branch starts from (default: the repository’s default branch).',
            ).optional(),
            branch: branchName(
              'Branch the item works on (default rdev/<item name>): checked out when it exists, so that later items build on earlier ones, else started from baseBranch.',
            ).optional(),
            commit: z.boolean().optional().meta({
              description:
                'Commit and push what the item changed (default: true for agent items, false otherwise).',
            }),
            pullRequest: z.boolean().optional().meta({
              description:
                'Open a pull request from branch to baseBranch when the item pushed (default: true for agent items); one per branch, reused on retries.',
            }),
            title: z.string().min(1).max(255).optional().meta({
              description: 'Title of the pull request (default: the commit message’s first line).',
            }),
            body: z.string().max(65536).optional().meta({ description: 'Body of the pull request.' }),
          })
          .meta({
            description:
              "What the item does in the Project's repository: the branch it works on, whether it commits, pushes and opens a pull request. Immutable.",
          }),
        'git',
      ).optional(),
      ttlSecondsAfterFinished: z
        .number()
        .int()
        .min(0)
        .max(31536000)
        .default(86400)
        .meta({ description: 'Seconds a finished item is kept before it is deleted.' }),
    })
    .meta({ description: 'The desired state of the WorkItem.' }),
  {
    rule: "self.type != 'agent' || has(self.prompt)",
    message: 'an agent WorkItem needs a prompt',
    fieldPath: '.prompt',
    reason: 'FieldValueRequired',
    check: (s) => s.type !== 'agent' || s.prompt !== undefined,
  },
  {
    rule: "self.type != 'shell' || has(self.command)",
    message: 'a shell WorkItem needs a command',
    fieldPath: '.command',
    reason: 'FieldValueRequired',
    check: (s) => s.type !== 'shell' || s.command !== undefined,
  },
  {
    rule: "self.type == 'agent' || !has(self.prompt)",
    message: 'prompt is only for agent WorkItems',
    fieldPath: '.prompt',
    reason: 'FieldValueForbidden',
    check: (s) => s.type === 'agent' || s.prompt === undefined,
  },
  {
    rule: "self.type != 'agent' || !has(self.command)",
    message: 'command is not for agent WorkItems (the agent provider decides the command)',
    fieldPath: '.command',
    reason: 'FieldValueForbidden',
    check: (s) => s.type !== 'agent' || s.command === undefined,
  },
);

export const WORK_PHASES = ['Queued', 'Scheduled', 'Running', 'Succeeded', 'Failed', 'Cancelled'] as const;

export const workItemStatus = kindStatus('WorkItem', WORK_PHASES, {
  attempts: z.number().int().min(0).optional().meta({ description: 'Attempts started so far.' }),
  worker: z.string().max(253).optional().meta({ description: 'The worker the item is bound to.' }),
  startedAt: timestamp('When the current or last attempt started.').optional(),
  finishedAt: timestamp('When the item finished.').optional(),
  exitCode: z.number().int().optional().meta({ description: 'Exit code of the last attempt.' }),
  outputTail: z
    .string()
    .max(70000)
    .optional()
    .meta({ description: 'The last 64 KiB of output of the last attempt.' }),
  nextAttemptAt: timestamp('When the next attempt may start, after a failed one.').optional(),
  duplicateOf: z
    .string()
    .max(253)
    .optional()
    .meta({ description: 'The WorkItem with the same idempotencyKey that this one defers to.' }),
  message: z.string().max(4096).optional().meta({ description: 'Why the item is in its phase.' }),
  runner: z
    .object({
      podName: z.string().max(253).meta({ description: 'The Pod the current or last attempt runs in.' }),
    })
    .optional()
    .meta({ description: 'Where the current or last attempt runs; set when the item is bound.' }),
  git: z
    .object({
      baseBranch: z.string().max(255).optional().meta({ description: 'Branch the work started from.' }),
      branch: z.string().max(255).optional().meta({ description: 'Branch the work is on.' }),
      commit: z.string().max(64).optional().meta({ description: 'The commit pushed (changed: true).' }),
      changed: z.boolean().optional().meta({ description: 'Whether the item changed the tree.' }),
      pullRequest: z
        .object({
          number: z.number().int().meta({ description: 'Number of the pull request.' }),
          url: z.string().max(2048).meta({ description: 'Web URL of the pull request.' }),
        })
        .optional()
        .meta({ description: 'The pull request the work is in.' }),
    })
    .optional()
    .meta({ description: 'What the last attempt did in the repository.' }),
});

export const workItemKind = defineKind('WorkItem', ['wi'], workItemSpec, workItemStatus, {
  description:
    'A WorkItem is a task (agent prompt, shell command, build, test or deploy) queued for the pool of warm workers, with retries, cancellation and idempotency.',
  lead: [projectColumn, column('Type', '.spec.type', 'What runs')],
  details: [
    column('Worker', '.status.worker', 'Worker it is bound to'),
    column('Attempts', '.status.attempts', 'Attempts started', { type: 'integer' }),
    column('Runner', '.status.runner.podName', 'Pod it runs in', { priority: 1 }),
    { name: 'Priority', type: 'integer', jsonPath: '.spec.priority', priority: 1 },
  ],
  // A worker watches `status.worker=<its name>`: binding is then the one status write.
  selectableFields: [
    { jsonPath: '.status.worker' },
    { jsonPath: '.status.phase' },
    { jsonPath: '.spec.projectRef.name' },
    { jsonPath: '.spec.type' },
  ],
});

export type WorkItemSpec = z.infer<typeof workItemSpec>;
export type WorkItemStatus = z.infer<typeof workItemStatus>;
