// Session: an interactive use of a Project's workspace (commands, a preview URL) that expires.
import { z } from 'zod';
import { duration, immutable, kindStatus, port, projectRef, timestamp, withRules } from './common.ts';
import { parseDuration } from './duration.ts';
import { column, defineKind, projectColumn } from './kind.ts';

export const sessionSpec = withRules(
  z
    .object({
      projectRef: projectRef(),
      dedicated: immutable(
        z.boolean().default(false).meta({
          description:
            "Gives the Session its own Pod, built from the Project's workspace template, instead of sharing the Project's workspace Pod. Immutable.",
        }),
        'dedicated',
      ),
      preview: z
        .object({
          port: port().meta({ description: 'Port inside the Pod to expose at the preview URL.' }),
        })
        .optional()
        .meta({ description: 'Exposes a port of the workspace at a preview URL.' }),
      ttl: duration('How long the Session lives after creation (at most 168h).', {
        min: '1m',
        max: '168h',
      }).default('2h'),
      idleTimeout: duration(
        'How long the Session lives without activity (at most 24h, and not beyond ttl).',
        {
          min: '1m',
          max: '24h',
        },
      ).default('30m'),
    })
    .meta({ description: 'The desired state of the Session.' }),
  {
    rule: 'duration(self.idleTimeout) <= duration(self.ttl)',
    message: 'idleTimeout must not exceed ttl',
    fieldPath: '.idleTimeout',
    check: (s) => (parseDuration(s.idleTimeout) ?? 0) <= (parseDuration(s.ttl) ?? Number.POSITIVE_INFINITY),
  },
);

export const SESSION_PHASES = ['Pending', 'Active', 'Expired', 'Terminated'] as const;

export const sessionStatus = kindStatus('Session', SESSION_PHASES, {
  podName: z.string().max(253).optional().meta({ description: 'The Pod commands of this Session run in.' }),
  previewURL: z
    .string()
    .max(2048)
    .optional()
    .meta({ description: 'URL of the preview, when one is exposed.' }),
  expiresAt: timestamp('When the Session expires unless activity keeps it (ttl from creation).').optional(),
  lastActivityAt: timestamp('When a command last ran in the Session.').optional(),
});

export const sessionKind = defineKind('Session', ['sess'], sessionSpec, sessionStatus, {
  description:
    "A Session is an interactive use of a Project's workspace: commands streamed through pods/exec and an optional preview URL, until it expires.",
  lead: [projectColumn],
  details: [
    column('Preview', '.status.previewURL', 'Preview URL'),
    column('Expires', '.status.expiresAt', 'When it expires', { type: 'date', priority: 1 }),
  ],
});

export type SessionSpec = z.infer<typeof sessionSpec>;
export type SessionStatus = z.infer<typeof sessionStatus>;
