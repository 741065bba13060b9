// Git identity provider: a Gitea user of the Project's own, collaborator with write access on the
// Project's repository and nothing else. Every git token the Project's runners, workspace and
// Checkouts get is this user's, so no token reaches another Project's repository. The name is a
// hash of the Project's namespace, name and uid (a recreated Project is another user); the user is
// the Project's when its description carries the Project's marker, else it is refused and never
// touched. The password is generated and kept in the identity's connection Secret (never given to
// a Pod): the operator needs it only to make and revoke tokens, which Gitea allows with nothing
// else. The user may not create repositories of its own.
import type { Api, User } from 'gitea-js';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { KubeClient } from '../../runtime/client.ts';
import { boundedName, shortHash } from '../../shared/naming.ts';
import { readSecretData } from '../../shared/secrets.ts';
import { ownerMarker } from '../marker.ts';
import { type ExternalClient, NotConfiguredError, passwordOf, WaitingError } from '../ports.ts';
import { recordedRepo } from './gitea.ts';
import { type GiteaAccess, GiteaError, giteaApiFor, giteaFailure } from './gitea-client.ts';
import { giteaTokens } from './gitea-tokens.ts';

export interface IdentityIds {
  username: string;
  /** The connection Secret: username, password, email and name of the user. */
  secretName: string;
}

/** Keys of the identity's connection Secret. */
export const IDENTITY_KEYS = { username: 'username', password: 'password', email: 'email', name: 'name' };

/** Gitea's user names: at most 40 characters; this one is 21. */
export const identityName = (project: LiveProject) =>
  `rdev-${shortHash(`${project.metadata.namespace}/${project.metadata.name}/${project.metadata.uid}`, 16)}`;

export const identitySecretName = (project: LiveProject) =>
  boundedName(project.metadata.name, 'git-identity');

/** The address commits are authored with: it routes nowhere (the .invalid domain is reserved). */
export const identityEmail = (username: string) => `${username}@users.rdev.invalid`;

/** The name commits are authored with. */
export const identityDisplayName = (project: LiveProject) =>
  `rdev ${project.metadata.namespace}/${project.metadata.name}`.slice(0, 100);

/** A user of the identity's name exists and is not this Project's. */
export class ForeignUserError extends Error {
  constructor(username: string, marker: string) {
    super(
      `Gitea user ${username} already exists and is not this Project's (its description does not carry ` +
        `"${marker}"); rdev does not change or delete it`,
    );
    this.name = 'ForeignUserError';
  }
}

const status = (err: unknown) => (err instanceof Response ? err.status : undefined);

export function giteaIdentityProvider(settings: {
  access: (() => Promise<GiteaAccess>) | undefined;
}): ExternalClient<IdentityIds> {
  async function connect(signal: AbortSignal): Promise<{ api: Api<unknown>; access: GiteaAccess }> {
    if (!settings.access) {
      throw new NotConfiguredError('no git forge is configured for identities (operator option --gitea-url)');
    }
    const access = await settings.access();
    return { api: giteaApiFor(access, signal), access };
  }

  /** The user if it is the Project's (or one an interrupted create left unmarked); undefined if absent. */
  async function ours(api: Api<unknown>, project: LiveProject): Promise<User | undefined> {
    const username = identityName(project);
    let user: User;
    try {
      user = (await api.users.userGet(username)).data;
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw await giteaFailure(`reading user ${username}`, err);
    }
    const marker = ownerMarker(project);
    const unmarked = !user.description && user.full_name === identityDisplayName(project);
    if (!user.description?.includes(marker) && !unmarked) throw new ForeignUserError(username, marker);
    return user;
  }

  /** The repository the identity writes to; WaitingError until it exists. */
  function repository(project: LiveProject): { owner: string; name: string } {
    const fullName = recordedRepo(project)?.fullName;
    const [owner, name] = fullName?.split('/', 2) ?? [];
    if (!owner || !name) throw new WaitingError('waiting for the repository');
    return { owner, name };
  }

  async function permission(api: Api<unknown>, project: LiveProject, username: string): Promise<string> {
    const repo = repository(project);
    try {
      return (
        (await api.repos.repoGetRepoPermissions(repo.owner, repo.name, username)).data.permission ?? 'none'
      );
    } catch (err) {
      if (status(err) === 404 || status(err) === 403) return 'none';
      throw await giteaFailure(`reading ${username}'s access to ${repo.owner}/${repo.name}`, err);
    }
  }

  const connection = (project: LiveProject, password: string) => {
    const username = identityName(project);
    return {
      [IDENTITY_KEYS.username]: username,
      [IDENTITY_KEYS.password]: password,
      [IDENTITY_KEYS.email]: identityEmail(username),
      [IDENTITY_KEYS.name]: identityDisplayName(project),
    };
  };

  /** Settings, password, mark and write access: everything but the user's existence. */
  async function complete(api: Api<unknown>, project: LiveProject, password: string): Promise<IdentityIds> {
    const username = identityName(project);
    const repo = repository(project);
    try {
      await api.admin.adminEditUser(username, {
        login_name: username,
        source_id: 0,
        password,
        must_change_password: false,
        description: `${identityDisplayName(project)}, managed by rdev (${ownerMarker(project)})`,
        max_repo_creation: 0,
        allow_create_organization: false,
      });
      if ((await permission(api, project, username)) !== 'write') {
        await api.repos.repoAddCollaborator(repo.owner, repo.name, username, { permission: 'write' });
      }
    } catch (err) {
      if (err instanceof GiteaError) throw err;
      throw await giteaFailure(`setting up user ${username}`, err);
    }
    return { username, secretName: identitySecretName(project) };
  }

  return {
    ids: (project) => ({ username: identityName(project), secretName: identitySecretName(project) }),
    passwordKey: IDENTITY_KEYS.password,

    async observe(ctx) {
      const { api } = await connect(ctx.signal);
      const { project } = ctx;
      const password = passwordOf(ctx);
      const user = await ours(api, project);
      if (!user) return { exists: false, upToDate: false, connection: connection(project, password) };
      const username = identityName(project);
      const diff = [
        user.description?.includes(ownerMarker(project)) ? '' : 'not marked as the Project’s yet',
        (await permission(api, project, username)) === 'write' ? '' : 'no write access to the repository',
      ].filter(Boolean);
      return {
        exists: true,
        upToDate: diff.length === 0,
        diff: diff.join('; ') || undefined,
        ids: { username, secretName: identitySecretName(project) },
        connection: connection(project, password),
      };
    },

    async create(ctx) {
      const { api } = await connect(ctx.signal);
      const { project } = ctx;
      repository(project); // no user before there is a repository to write to
      const username = identityName(project);
      const password = passwordOf(ctx);
      if (!(await ours(api, project))) {
        try {
          await api.admin.adminCreateUser({
            username,
            login_name: username,
            source_id: 0,
            email: identityEmail(username),
            full_name: identityDisplayName(project),
            password,
            must_change_password: false,
            send_notify: false,
            visibility: 'private',
          });
        } catch (err) {
          // 422: made meanwhile (an earlier attempt): ours() decides below whether it is ours.
          if (status(err) === 403) {
            throw new NotConfiguredError(
              'the Gitea token (--gitea-secret) cannot create users: it must be a site administrator’s',
            );
          }
          if (status(err) !== 422) throw await giteaFailure(`creating user ${username}`, err);
          if (!(await ours(api, project))) throw await giteaFailure(`creating user ${username}`, err);
        }
      }
      return complete(api, project, password);
    },

    async update(ctx) {
      const { api } = await connect(ctx.signal);
      if (!(await ours(api, ctx.project))) return this.create(ctx);
      return complete(api, ctx.project, passwordOf(ctx));
    },

    async delete(ids, { project, signal }) {
      const { api } = await connect(signal);
      // Someone else's user of that name (ours never existed): not ours to delete.
      if (!(await ours(api, project).catch(() => undefined))) return;
      try {
        await api.admin.adminDeleteUser(ids.username, { purge: true });
      } catch (err) {
        if (status(err) !== 404) throw await giteaFailure(`deleting user ${ids.username}`, err);
      }
    },

    async retain(_ids, { signal, connection: details }) {
      // The user stays with the repository; the tokens it lent to Pods and Checkouts do not.
      const { access } = await connect(signal);
      const username = details?.[IDENTITY_KEYS.username];
      const password = details?.[IDENTITY_KEYS.password];
      if (!username || !password) return;
      await giteaTokens(access, { username, password }, signal).revokeAll();
    },
  };
}

/** The identity as the operator uses it: the account and what commits are authored with. */
export interface Identity {
  username: string;
  password: string;
  email: string;
  name: string;
}

/**
 * The Project's identity from its connection Secret; undefined until the Project has one (no
 * repository yet, or the Secret not written yet).
 */
export async function readIdentity(client: KubeClient, project: LiveProject): Promise<Identity | undefined> {
  const secretName = project.status?.gitIdentity?.secretName;
  if (!secretName) return undefined;
  const data = await readSecretData(client, project.metadata.namespace, secretName);
  const username = data?.[IDENTITY_KEYS.username];
  const password = data?.[IDENTITY_KEYS.password];
  if (!username || !password) return undefined;
  return {
    username,
    password,
    email: data[IDENTITY_KEYS.email] || identityEmail(username),
    name: data[IDENTITY_KEYS.name] || identityDisplayName(project),
  };
}

/** Keys of every Secret holding a lent git token (Checkouts, runners, the workspace). */
export const GIT_CREDENTIAL_KEYS = ['username', 'token', 'email', 'name'] as const;

/** What a Secret lending `token` of the identity holds: never the password. */
export function gitCredentials(
  identity: Identity,
  token: string,
): Record<(typeof GIT_CREDENTIAL_KEYS)[number], string> {
  return { username: identity.username, token, email: identity.email, name: identity.name };
}
