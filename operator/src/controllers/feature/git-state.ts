// Reads a Feature's folder on its branch through Gitea's contents API (the operator's token): the
// blob SHA of every file (an artifact's digest), and the text of the two files the controller
// reads, approvals.yaml and tasks.md. A branch or folder that does not exist yet holds nothing.
import type { Api } from 'gitea-js';
import { giteaFailure } from '../../providers/git/gitea-client.ts';
import { APPROVALS_FILE, featureFolder } from './artifacts.ts';
import { ARTIFACT_FILES } from './classify.ts';

export interface GitState {
  /** Blob SHA by file name, for the files of the folder. */
  files: Map<string, string>;
  approvals?: string;
  tasks?: string;
}

const status = (err: unknown) => (err instanceof Response ? err.status : undefined);

/** Files larger than this are not read (a task list or a verdict log is far smaller). */
const MAX_READ_BYTES = 1024 * 1024;

export async function readGitState(
  api: Api<unknown>,
  repo: { owner: string; name: string },
  feature: string,
  branch: string,
): Promise<GitState> {
  const folder = featureFolder(feature);
  let entries: { name?: string; sha?: string; type?: string; size?: number }[];
  try {
    const listed = (await api.repos.repoGetContents(repo.owner, repo.name, folder, { ref: branch })).data;
    entries = Array.isArray(listed) ? listed : [];
  } catch (err) {
    if (status(err) === 404) return { files: new Map() };
    throw await giteaFailure(`reading ${folder} on ${branch} of ${repo.owner}/${repo.name}`, err);
  }
  const files = new Map<string, string>();
  for (const e of entries) if (e.type === 'file' && e.name && e.sha) files.set(e.name, e.sha);

  const read = async (file: string): Promise<string | undefined> => {
    const entry = entries.find((e) => e.name === file && e.type === 'file');
    if (!entry || (entry.size ?? 0) > MAX_READ_BYTES) return undefined;
    try {
      const got = (
        await api.repos.repoGetContents(repo.owner, repo.name, `${folder}/${file}`, { ref: branch })
      ).data;
      return Array.isArray(got) || !got.content
        ? undefined
        : Buffer.from(got.content, 'base64').toString('utf8');
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw await giteaFailure(`reading ${folder}/${file} on ${branch}`, err);
    }
  };
  const approvals = await read(APPROVALS_FILE);
  const tasks = await read(ARTIFACT_FILES.tasks);
  return {
    files,
    ...(approvals !== undefined ? { approvals } : {}),
    ...(tasks !== undefined ? { tasks } : {}),
  };
}
