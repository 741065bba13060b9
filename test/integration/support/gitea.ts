// The harness's Gitea for a test file: its admin's API client, and an organisation (and a bot
// user, for Checkouts) made before the file's tests and removed, with every repository in it,
// after them.
import { giteaApi } from 'gitea-js';
import { afterAll, beforeAll, inject } from 'vitest';
import type { GitAuth } from './git.ts';
import { uniqueName } from './kube.ts';

export const giteaServer = () => inject('services').gitea;

/** A gitea-js client as the harness's admin. */
export function giteaAdmin() {
  const gitea = giteaServer();
  return giteaApi(gitea.url, { token: gitea.adminToken, customFetch: fetch });
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

/**
 * A Gitea user the operator leases Checkout tokens as (its password in a Secret), deleted after
 * the file's tests. Call it before useGiteaOrg, so that the organisation goes first.
 */
export function useGiteaBot(): { readonly username: string; readonly password: string } {
  const api = giteaAdmin();
  const bot = { username: uniqueName('rdev-bot'), password: `pw-${uniqueName('x')}-A1!` };
  beforeAll(async () => {
    await api.admin.adminCreateUser({
      username: bot.username,
      password: bot.password,
      email: `${bot.username}@rdev.test`,
      must_change_password: false,
    });
  });
  afterAll(async () => {
    await api.admin.adminDeleteUser(bot.username).catch(() => undefined);
  });
  return bot;
}
