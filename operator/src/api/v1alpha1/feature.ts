// Feature: a change driven through a fixed lifecycle (draft → … → released) by agent actions, each
// a WorkItem on the Feature's branch; its artifacts live in git, the controller reads them.
import { z } from 'zod';
import { branchName, kindStatus, projectRef, timestamp } from './common.ts';
import { column, defineKind, projectColumn } from './kind.ts';

/** The lifecycle, in order: a Feature only ever moves forward. */
export const FEATURE_PHASES = [
  'draft',
  'specified',
  'planned',
  'ready',
  'implementation',
  'review',
  'audit',
  'qa',
  'merge',
  'released',
] as const;
export type FeaturePhase = (typeof FEATURE_PHASES)[number];

/** The artifacts a Feature is made of, each a Markdown file in its folder. */
export const ARTIFACT_TYPES = [
  'spec',
  'design',
  'tasks',
  'qa_plan',
  'review',
  'audit',
  'qa_results',
] as const;
export type ArtifactType = (typeof ARTIFACT_TYPES)[number];

export const ARTIFACT_STATUSES = [
  'missing',
  'draft',
  'approved',
  'rejected',
  'needs_fix',
  'passed',
  'failed',
  'waived',
] as const;
export type ArtifactStatus = (typeof ARTIFACT_STATUSES)[number];

const artifactType = z
  .enum(ARTIFACT_TYPES)
  .meta({ description: 'An artifact: spec, design, tasks, qa_plan, review, audit or qa_results.' });
const who = z.string().min(1).max(253).meta({ description: 'Who decided (a user, a key, a team).' });
const reason = z.string().max(4096).meta({ description: 'Why.' });
/** A git blob SHA (SHA-1, or SHA-256 for repositories that use it). */
const digest = z
  .string()
  .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/)
  .meta({
    description: 'The git blob SHA of the artifact as decided on: a changed artifact needs a new decision.',
  });

const decision = z
  .object({ artifact: artifactType, digest, by: who, reason: reason.optional() })
  .meta({ description: 'A decision on one version of an artifact.' });

const policy = z
  .enum(['agent', 'human'])
  .meta({ description: 'Who approves: a verifying agent, or a human (spec.approvals).' });

export const featureSpec = z
  .object({
    projectRef: projectRef(),
    title: z.string().min(1).max(200).meta({ description: 'What the Feature is, in a line.' }),
    description: z
      .string()
      .max(65536)
      .default('')
      .meta({ description: 'What is wanted and why: the agents start from it.' }),
    baseBranch: branchName(
      'Branch the Feature starts from and merges into (default: the repository’s default branch).',
    ).optional(),
    dependsOn: z
      .array(z.string().min(1).max(253).meta({ description: 'A Feature of the same Project.' }))
      .max(32)
      .default([])
      .meta({
        description: 'Features that must be released before this one starts.',
        'x-kubernetes-list-type': 'set',
      }),
    paused: z.boolean().default(false).meta({ description: 'Starts no new action while true.' }),
    approvalPolicy: z
      .object({
        spec: policy.default('agent'),
        design: policy.default('agent'),
        tasks: policy.default('agent'),
        qa_plan: policy.default('agent'),
        review: policy.default('agent'),
        audit: policy.default('agent'),
        qa_results: policy.default('agent'),
      })
      .prefault({})
      .meta({ description: 'Who approves each artifact (default: a verifying agent).' }),
    approvals: z.array(decision).max(256).default([]).meta({
      description: 'Human approvals, each bound to the digest it approves.',
      'x-kubernetes-list-type': 'atomic',
    }),
    rejections: z.array(decision).max(256).default([]).meta({
      description: 'Human rejections, each bound to the digest it rejects.',
      'x-kubernetes-list-type': 'atomic',
    }),
    waivers: z
      .array(
        z
          .object({ artifact: artifactType, by: who, reason })
          .meta({ description: 'An artifact declared unnecessary.' }),
      )
      .max(32)
      .default([])
      .meta({
        description: 'Artifacts waived: satisfied without being written or approved.',
        'x-kubernetes-list-type': 'atomic',
      }),
    maxFixCycles: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(3)
      .meta({ description: 'Fix cycles (a rejected review or failed QA fixed) before a human must decide.' }),
  })
  .meta({ description: 'The desired state of the Feature.' });

export const featureStatus = kindStatus('Feature', FEATURE_PHASES, {
  branch: z.string().max(255).optional().meta({ description: 'The branch the Feature is built on.' }),
  artifacts: z
    .array(
      z
        .object({
          type: artifactType,
          status: z.enum(ARTIFACT_STATUSES).meta({ description: 'Its status.' }),
          path: z.string().max(1024).meta({ description: 'Where it is in the repository.' }),
          digest: z.string().max(64).optional().meta({ description: 'Its git blob SHA, when it exists.' }),
        })
        .meta({ description: 'An artifact as the repository holds it.' }),
    )
    .max(16)
    .optional()
    .meta({ description: 'The artifacts, as read from the Feature’s branch.' }),
  tasks: z
    .array(
      z
        .object({
          id: z.string().max(32).meta({ description: 'T1, T2, …' }),
          title: z.string().max(1024).meta({ description: 'What to do.' }),
          status: z.enum(['pending', 'completed']).meta({ description: 'Whether it is done.' }),
        })
        .meta({ description: 'A task of tasks.md.' }),
    )
    .max(256)
    .optional()
    .meta({ description: 'The implementation tasks, from tasks.md.' }),
  nextAction: z
    .object({
      rule: z.string().max(128).meta({ description: 'The classifier rule that matched.' }),
      action: z.string().max(64).meta({ description: 'What happens next.' }),
      outputPath: z
        .string()
        .max(1024)
        .optional()
        .meta({ description: 'The artifact the action writes or judges.' }),
      taskId: z.string().max(32).optional().meta({ description: 'The task the action implements.' }),
      transitionTo: z
        .enum(FEATURE_PHASES)
        .optional()
        .meta({ description: 'The phase reached once it holds.' }),
      gate: z
        .enum(['human', 'blocked'])
        .optional()
        .meta({ description: 'Why no agent acts: a human must decide, or a dependency is not released.' }),
    })
    .optional()
    .meta({ description: 'What the classifier decided last.' }),
  workItem: z.string().max(253).optional().meta({ description: 'The WorkItem running the current action.' }),
  fixCycles: z.number().int().min(0).optional().meta({ description: 'Fix cycles started so far.' }),
  pullRequest: z
    .object({
      number: z.number().int().min(1).meta({ description: 'Number of the pull request.' }),
      url: z.string().max(2048).meta({ description: 'Web URL of the pull request.' }),
      merged: z.boolean().optional().meta({ description: 'Whether it is merged.' }),
    })
    .optional()
    .meta({ description: 'The pull request of the merge phase.' }),
  phaseHistory: z
    .array(
      z
        .object({
          phase: z.enum(FEATURE_PHASES).meta({ description: 'The phase.' }),
          enteredAt: timestamp('When the phase was entered.'),
        })
        .meta({ description: 'A phase entered.' }),
    )
    .max(16)
    .optional()
    .meta({ description: 'Every phase entered, in order.' }),
});

export const featureKind = defineKind('Feature', ['feat'], featureSpec, featureStatus, {
  description:
    'A Feature drives a change through a lifecycle, from spec to merged pull request: agents write and verify its artifacts in git, one WorkItem per action.',
  lead: [projectColumn],
  rootRules: [
    {
      rule: '!has(self.spec.dependsOn) || !(self.metadata.name in self.spec.dependsOn)',
      message: 'a Feature cannot depend on itself',
    },
  ],
  details: [
    column('Next', '.status.nextAction.action', 'The next action'),
    column('PR', '.status.pullRequest.url', 'Pull request', { priority: 1 }),
  ],
});

export type FeatureSpec = z.infer<typeof featureSpec>;
export type FeatureStatus = z.infer<typeof featureStatus>;
