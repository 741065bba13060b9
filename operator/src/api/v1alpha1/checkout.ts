// Checkout: a lease on a branch of a Project's repository with temporary git credentials;
// checking in opens a pull request for review.
import { z } from 'zod';
import { branchName, duration, immutable, kindStatus, projectRef, timestamp, withRules } from './common.ts';
import { column, defineKind, projectColumn } from './kind.ts';

export const checkoutSpec = withRules(
  z
    .object({
      projectRef: projectRef(),
      branch: immutable(
        branchName('Branch to work on, created from baseBranch; checkout/<name> when unset. Immutable.'),
        'branch',
      ).optional(),
      baseBranch: immutable(
        branchName('Branch the work starts from and the pull request targets. Immutable.'),
        'baseBranch',
      ).default('main'),
      ttl: duration('How long the credentials live (at most 168h); they are revoked at expiry.', {
        min: '1m',
        max: '168h',
      }).default('4h'),
      keepBranch: z.boolean().default(false).meta({
        description: 'Keeps the branch after its pull request is merged (it is deleted by default).',
      }),
      checkin: z
        .object({
          title: z.string().min(1).max(255).meta({ description: 'Title of the pull request.' }),
          body: z.string().max(65536).default('').meta({ description: 'Description of the pull request.' }),
        })
        .optional()
        .meta({
          description:
            'Setting this checks the work in: the credentials are revoked and a pull request from branch to baseBranch opens.',
        }),
    })
    .meta({ description: 'The desired state of the Checkout.' }),
  {
    rule: '!has(self.branch) || self.branch != self.baseBranch',
    message: 'branch must differ from baseBranch',
    fieldPath: '.branch',
    check: (s) => s.branch === undefined || s.branch !== s.baseBranch,
  },
  {
    rule: '!has(oldSelf.checkin) || (has(self.checkin) && self.checkin == oldSelf.checkin)',
    message: 'checkin cannot be changed or withdrawn once made',
    fieldPath: '.checkin',
  },
);

export const CHECKOUT_PHASES = ['Pending', 'Active', 'Review', 'Merged', 'Closed', 'Expired'] as const;

export const checkoutStatus = kindStatus('Checkout', CHECKOUT_PHASES, {
  branch: z.string().max(200).optional().meta({ description: 'The branch checked out.' }),
  cloneURL: z.string().max(2048).optional().meta({ description: 'HTTPS clone URL of the repository.' }),
  credentialsSecret: z
    .string()
    .max(253)
    .optional()
    .meta({ description: 'Secret holding the temporary git credentials (username, token).' }),
  expiresAt: timestamp('When the credentials are revoked.').optional(),
  token: z
    .object({
      name: z.string().max(255).meta({ description: 'Name of the access token in the git forge.' }),
      revoked: z.boolean().optional().meta({ description: 'Whether the token has been revoked.' }),
    })
    .optional()
    .meta({
      description:
        'The access token leased: recorded before it is created, so that nothing can leave it behind unrevoked.',
    }),
  pullRequest: z
    .object({
      number: z.number().int().min(1).meta({ description: 'Number of the pull request.' }),
      url: z.string().max(2048).meta({ description: 'Web URL of the pull request.' }),
    })
    .optional()
    .meta({ description: 'The pull request opened by checkin.' }),
});

export const checkoutKind = defineKind('Checkout', ['co'], checkoutSpec, checkoutStatus, {
  description:
    "A Checkout leases a branch of a Project's repository with temporary git credentials; checking in opens a pull request and revokes them.",
  lead: [projectColumn, column('Branch', '.status.branch', 'The branch checked out')],
  details: [
    column('PR', '.status.pullRequest.url', 'Pull request'),
    column('Expires', '.status.expiresAt', 'When credentials end', { type: 'date', priority: 1 }),
  ],
});

export type CheckoutSpec = z.infer<typeof checkoutSpec>;
export type CheckoutStatus = z.infer<typeof checkoutStatus>;
