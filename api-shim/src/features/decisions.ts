// Human decisions on a Feature's artifacts, as API keys make them: an approval or a rejection is
// bound to the version of the artifact it was made on (its git blob SHA), so it must name the
// digest the Feature's status shows now; the same decision sent twice is recorded once, and an
// artifact is waived at most once. Pure: the routes read the Feature and write what this returns.
import {
  type ArtifactType,
  featureSpec,
  type LiveFeature,
} from '../../../operator/src/api/v1alpha1/index.ts';

export type Decision = LiveFeature['spec']['approvals'][number];
export type Waiver = LiveFeature['spec']['waivers'][number];
/** Where a decision is recorded. */
export type DecisionList = 'approvals' | 'rejections';

// The CRD's own schemas of a decision's fields, so that the API accepts exactly what the CRD does.
const decision = featureSpec.shape.approvals.unwrap().element.shape;
const waiver = featureSpec.shape.waivers.unwrap().element.shape;
/** An artifact type (spec, design, tasks, qa_plan, review, audit, qa_results). */
export const artifactField = decision.artifact;
/** A git blob SHA: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits. */
export const digestField = decision.digest;
/** Why: optional on a decision. */
export const decisionReasonField = decision.reason;
/** Why: a waiver must say. */
export const waiverReasonField = waiver.reason.min(1);

/** Who decided, as the Feature records it: the API key's name and id (ids are unique, names need not be). */
export const decidedBy = (key: { id: string; name: string }): string => `${key.name} (key ${key.id})`;

/**
 * Why `digest` cannot be decided on for `artifact`: the artifact does not exist yet, or the
 * Feature's status shows it at another digest (the caller judged an older or newer version).
 * Undefined when it is the artifact's current digest.
 */
export function digestMismatch(
  feature: Pick<LiveFeature, 'status'>,
  artifact: ArtifactType,
  digest: string,
): string | undefined {
  const current = feature.status?.artifacts?.find((a) => a.type === artifact);
  if (!current?.digest || current.status === 'missing') {
    return `the artifact ${artifact} does not exist yet: there is nothing to decide on`;
  }
  if (current.digest !== digest) {
    return `the artifact ${artifact} is at digest ${current.digest}, not ${digest}: read it again and decide on that version`;
  }
  return undefined;
}

/** The same decision: artifact, digest, who and why (no reason and an empty one are the same). */
export const sameDecision = (a: Decision, b: Decision): boolean =>
  a.artifact === b.artifact &&
  a.digest === b.digest &&
  a.by === b.by &&
  (a.reason ?? '') === (b.reason ?? '');

/** `list` with `entry` appended; undefined when an identical decision is already there (nothing to write). */
export function withDecision(list: readonly Decision[], entry: Decision): Decision[] | undefined {
  return list.some((d) => sameDecision(d, entry)) ? undefined : [...list, entry];
}

/** `list` with `entry` appended; undefined when its artifact is already waived (by anyone, for any reason). */
export function withWaiver(list: readonly Waiver[], entry: Waiver): Waiver[] | undefined {
  return list.some((w) => w.artifact === entry.artifact) ? undefined : [...list, entry];
}
