// The harness's Gitea for a test file: its admin's API client, an organisation made before the
// file's tests and removed, with every repository in it, after them, and a Project's identity.
import { giteaApi } from 'gitea-js';
import { afterAll, beforeAll, inject } from 'vitest';
import { PROJECTS } from '../../../operator/src/api/resources.ts';
import type { KubeClient, KubeObject } from '../../../operator/src/runtime/client.ts';
import { FakeWoodpecker } from '../../fakes/woodpecker.ts';
import type { GitAuth } from './git.ts';
import { readSecret, uniqueName } from './kube.ts';

export const giteaServer = () => inject('services').gitea;

/** A gitea-js client as the harness's admin. */
export function giteaAdmin() {
  const gitea = giteaServer();
  return giteaApi(gitea.url, { token: gitea.adminToken, customFetch: fetch });
}

/**
 * The Woodpecker fake, its forge the harness's Gitea: asked to activate a repository, it looks it
 * up there, as Woodpecker does.
 */
export function woodpeckerOnGitea(): Promise<FakeWoodpecker> {
  const gitea = giteaServer();
  return FakeWoodpecker.start({
    forgeURL: gitea.url,
    forgeLookup: async (id) => {
      const res = await fetch(`${gitea.url}/api/v1/repositories/${id}`, {
        headers: { authorization: `token ${gitea.adminToken}` },
      });
      if (!res.ok) return undefined;
      const r = (await res.json()) as {
        id: number;
        name: string;
        owner: { login: string };
        private: boolean;
      };
      return { id: r.id, owner: r.owner.login, name: r.name, private: r.private };
    },
  });
}

/** The admin's credentials for git over HTTP. */
export function giteaAdminAuth(): GitAuth {
  const gitea = giteaServer();
  return { username: gitea.adminUser, token: gitea.adminToken };
}

/**
 * An organisation for the file. It is removed by a hook registered here: call this after
 * useOperatorNamespace to remove it before the namespace goes (hooks run last-registered first).
 */
export function useGiteaOrg(
  prefix: string,
  options: { visibility?: 'private' } = {},
): { readonly name: string } {
  const api = giteaAdmin();
  const org = { name: uniqueName(prefix) };
  beforeAll(async () => {
    await api.orgs.orgCreate({ username: org.name, ...options });
  });
  afterAll(async () => {
    const repos = await api.orgs.orgListRepos(org.name, { limit: 50 }).then(
      (r) => r.data,
      () => [],
    );
    for (const r of repos) await api.repos.repoDelete(org.name, r.name ?? '').catch(() => undefined);
    await api.orgs.orgDelete(org.name).catch(() => undefined);
  });
  return org;
}

/** The Project's git identity: its Gitea user and password, from its Secret (status.gitIdentity). */
export async function projectIdentity(
  client: KubeClient,
  namespace: string,
  project: string,
): Promise<{ username: string; password: string }> {
  const p = await client.get<KubeObject & { status?: { gitIdentity?: { secretName?: string } } }>(
    PROJECTS,
    namespace,
    project,
  );
  const data = await readSecret(namespace, p.status?.gitIdentity?.secretName ?? '');
  if (!data.username || !data.password)
    throw new Error(`Project ${namespace}/${project} has no identity yet`);
  return { username: data.username, password: data.password };
}

/** The names of a Gitea user's tokens (as that user: only it may list them). */
export async function identityTokens(user: { username: string; password: string }): Promise<string[]> {
  const auth = Buffer.from(`${user.username}:${user.password}`).toString('base64');
  const res = await fetch(`${giteaServer().url}/api/v1/users/${user.username}/tokens?limit=50`, {
    headers: { authorization: `Basic ${auth}` },
  });
  if (res.status !== 200) throw new Error(`listing ${user.username}'s tokens answered ${res.status}`);
  return ((await res.json()) as { name: string }[]).map((t) => t.name);
}
