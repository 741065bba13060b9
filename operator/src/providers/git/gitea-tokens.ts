// Access tokens of one Gitea account. Gitea creates and lists a user's tokens only for a request
// authenticated with that user's password (a token cannot make tokens), so these calls use basic
// auth. Tokens carry only the write:repository scope: what git needs to fetch and push.
import { GiteaError, giteaFailure, requestSignal } from './gitea-client.ts';

export interface GiteaAccount {
  username: string;
  password: string;
}

/** The narrowest scope that lets git push over HTTP (Gitea has no per-repository tokens). */
export const GIT_TOKEN_SCOPES = ['write:repository'];

/** The prefix of every token rdev makes: what a revocation of all of them looks for. */
export const TOKEN_PREFIX = 'rdev-';

/** A string field of a JSON answer, if it is an object that has one. */
export function stringField(body: unknown, field: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value: unknown = Reflect.get(body, field);
  return typeof value === 'string' ? value : undefined;
}

export function giteaTokens(
  server: { url: string; timeoutMs?: number },
  account: GiteaAccount,
  signal?: AbortSignal,
) {
  const base = server.url.replace(/\/+$/, '');
  const auth = `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`;
  const tokens = `/users/${encodeURIComponent(account.username)}/tokens`;

  /** A call as the account; 404 is an answer, not an error. */
  async function asAccount(method: string, path: string, body?: unknown): Promise<Response> {
    const what = `${method} ${path.replace(/\/tokens\/.*/, '/tokens/…')} as ${account.username}`;
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1${path}`, {
        method,
        signal: requestSignal({ ...server, token: '' }, signal),
        headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw await giteaFailure(what, err);
    }
    if (!res.ok && res.status !== 404) {
      const detail = stringField(await res.json().catch(() => undefined), 'message') ?? res.statusText;
      throw new GiteaError(what, res.status, detail);
    }
    return res;
  }

  return {
    /** Creates the token `name`; its secret value is only ever in the answer. */
    async create(name: string): Promise<string> {
      const res = await asAccount('POST', tokens, { name, scopes: GIT_TOKEN_SCOPES });
      if (res.status === 404) throw new GiteaError('creating a token', 404, `no user ${account.username}`);
      const token = stringField(await res.json(), 'sha1');
      if (!token) throw new GiteaError('creating a token', res.status, 'the answer has no token');
      return token;
    },

    /** Deletes the token `name`; true when it existed. */
    async delete(name: string): Promise<boolean> {
      const res = await asAccount('DELETE', `${tokens}/${encodeURIComponent(name)}`);
      return res.status !== 404;
    },

    /** The names of the account's tokens (empty when the account is gone). */
    async names(): Promise<string[]> {
      const found: string[] = [];
      for (let page = 1; ; page++) {
        const res = await asAccount('GET', `${tokens}?page=${page}&limit=50`);
        if (res.status === 404) return found;
        const body: unknown = await res.json();
        const list = Array.isArray(body) ? body : [];
        for (const t of list) {
          const name = stringField(t, 'name');
          if (name) found.push(name);
        }
        if (list.length < 50) return found;
      }
    },

    /** Deletes every token rdev made for the account; how many there were. */
    async revokeAll(): Promise<number> {
      const ours = (await this.names()).filter((n) => n.startsWith(TOKEN_PREFIX));
      for (const name of ours) await this.delete(name);
      return ours.length;
    },
  };
}

export type GiteaTokens = ReturnType<typeof giteaTokens>;

/**
 * A new token under `name`: one of that name from an interrupted attempt (whose value nobody
 * stored) is deleted first. The name must be on record before this is called.
 */
export async function replaceToken(tokens: GiteaTokens, name: string): Promise<string> {
  await tokens.delete(name);
  return tokens.create(name);
}
