// What a Feature's branch says, as pure functions of what the controller read from it: each
// artifact's status (its file's blob SHA is its digest; a decision counts only for the digest it
// was made on), and the tasks of tasks.md. Agents record their verdicts in the folder's
// approvals.yaml; humans in spec.approvals and spec.rejections; waivers are spec.waivers.
import { parse } from 'yaml';
import { z } from 'zod';
import {
  ARTIFACT_TYPES,
  type ArtifactStatus,
  type ArtifactType,
  type FeatureSpec,
} from '../../api/v1alpha1/feature.ts';
import { ARTIFACT_FILES, noArtifacts, type Task } from './classify.ts';

/** The Feature's folder in the repository. */
export const featureFolder = (name: string) => `.sdlc/features/${name}`;
/** The branch a Feature is built on. */
export const featureBranch = (name: string) => `feature/${name}`;
/** Where verifying agents record their verdicts. */
export const APPROVALS_FILE = 'approvals.yaml';

/** An agent's verdict on one version of an artifact, as approvals.yaml lists them. */
const verdict = z.object({
  artifact: z.enum(ARTIFACT_TYPES),
  digest: z.string().min(7),
  verdict: z.enum(['approved', 'rejected', 'passed', 'failed']),
  by: z.string().optional(),
  reason: z.string().optional(),
});
export type Verdict = z.infer<typeof verdict>;

/** The verdicts of approvals.yaml; entries that do not parse are ignored (and counted). */
export function parseVerdicts(text: string | undefined): { verdicts: Verdict[]; ignored: number } {
  if (!text) return { verdicts: [], ignored: 0 };
  let doc: unknown;
  try {
    // Every scalar a string: a digest such as 1234e5… must not become a number.
    doc = parse(text, { schema: 'failsafe' });
  } catch {
    return { verdicts: [], ignored: 1 };
  }
  const entries: unknown[] = Array.isArray(doc) ? doc : [];
  const verdicts = entries.flatMap((e) => {
    const parsed = verdict.safeParse(e);
    return parsed.success ? [parsed.data] : [];
  });
  return { verdicts, ignored: entries.length - verdicts.length };
}

/** The tasks of tasks.md: checklist lines `- [ ] T1: title` (done: `- [x]`). */
export function parseTasks(text: string | undefined): Task[] {
  if (!text) return [];
  const tasks: Task[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*[-*]\s+\[([ xX])\]\s+(T\d+)\s*[:.)-]?\s*(.*)$/.exec(line);
    if (m?.[2] && !tasks.some((t) => t.id === m[2]))
      tasks.push({
        id: m[2],
        title: (m[3] ?? '').trim().slice(0, 1024),
        status: m[1] === ' ' ? 'pending' : 'completed',
      });
  }
  return tasks;
}

export interface ArtifactView {
  type: ArtifactType;
  status: ArtifactStatus;
  path: string;
  digest?: string;
}

/**
 * Each artifact's status: waived when a waiver names it; else missing without a file; else the
 * decision on its current digest — a human's (spec.approvals, spec.rejections) first, then, where
 * the policy lets an agent decide, the last agent verdict — else a draft.
 */
export function artifactViews(
  name: string,
  /** The blob SHA of each file in the Feature's folder, by file name. */
  files: ReadonlyMap<string, string>,
  verdicts: readonly Verdict[],
  spec: Pick<FeatureSpec, 'approvals' | 'rejections' | 'waivers' | 'approvalPolicy'>,
): ArtifactView[] {
  return ARTIFACT_TYPES.map((type) => {
    const path = `${featureFolder(name)}/${ARTIFACT_FILES[type]}`;
    const digest = files.get(ARTIFACT_FILES[type]);
    const view = (status: ArtifactStatus): ArtifactView => ({
      type,
      status,
      path,
      ...(digest ? { digest } : {}),
    });
    if (spec.waivers.some((w) => w.artifact === type)) return view('waived');
    if (!digest) return view('missing');
    const on = (d: { artifact: ArtifactType; digest: string }) => d.artifact === type && d.digest === digest;
    if (spec.rejections.some(on)) return view(type === 'qa_results' ? 'failed' : 'rejected');
    if (spec.approvals.some(on)) return view(type === 'qa_results' ? 'passed' : 'approved');
    if (spec.approvalPolicy[type] === 'agent') {
      const last = verdicts.filter((v) => v.artifact === type && digest.startsWith(v.digest)).at(-1);
      if (last) {
        const good = last.verdict === 'approved' || last.verdict === 'passed';
        if (type === 'qa_results') return view(good ? 'passed' : 'failed');
        return view(good ? 'approved' : 'rejected');
      }
    }
    return view('draft');
  });
}

/** The statuses by type, as the classifier takes them. */
export const statusesOf = (views: readonly ArtifactView[]): Record<ArtifactType, ArtifactStatus> => {
  const statuses = noArtifacts();
  for (const v of views) statuses[v.type] = v.status;
  return statuses;
};
