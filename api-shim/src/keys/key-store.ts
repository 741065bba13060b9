// The API keys in memory: the labelled Secrets as the informer sees them (a deleted key stops
// working as soon as its watch event arrives), plus an optional bootstrap admin key that lives
// only in memory (from the environment) or follows its Secret. Lookup is by the hash of the
// presented key. A key made by another stands only while its creator does: revoking a key
// revokes, at once, every key it made, and theirs.
import type { Logger } from 'pino';
import type { Informer } from '../../../operator/src/runtime/informer.ts';
import { type ApiKey, apiKeyFromSecret, hashKey, type SecretObject, sameHash } from './api-key.ts';

export const BOOTSTRAP_KEY_ID = 'bootstrap';

/** Longest chain of creators followed (a longer one, or a loop, is refused). */
const MAX_DEPTH = 64;

export class KeyStore {
  private readonly byId = new Map<string, ApiKey>();
  private readonly idByHash = new Map<string, string>();
  private readonly idBySecret = new Map<string, string>();
  private bootstrap: ApiKey | undefined;
  private readonly log: Logger;

  constructor(informer: Informer<SecretObject>, log: Logger) {
    this.log = log;
    const put = (secret: SecretObject) => {
      this.drop(secret);
      const key = apiKeyFromSecret(secret);
      if ('invalid' in key) {
        log.warn({ secret: secret.metadata.name, reason: key.invalid }, 'ignoring an API-key Secret');
        return;
      }
      this.byId.set(key.id, key);
      this.idByHash.set(key.hash, key.id);
      this.idBySecret.set(secret.metadata.name, key.id);
    };
    informer.on({ add: put, update: (_, s) => put(s), delete: (s) => this.drop(s) });
  }

  /** An admin key known only to this process (from a Secret or the environment); undefined: none. */
  setBootstrapKey(key: string | undefined): void {
    this.bootstrap = key
      ? {
          id: BOOTSTRAP_KEY_ID,
          name: 'bootstrap',
          hash: hashKey(key),
          scopes: ['admin'],
          namespaces: [],
          projects: [],
          cidrs: [],
        }
      : undefined;
  }

  /**
   * Makes the bootstrap key follow a Secret's "key": replaced, the old key stops working; deleted
   * (or without "key"), there is none — each as soon as the watch event arrives.
   */
  followBootstrapSecret(informer: Informer<SecretObject>, name: string): void {
    const put = (secret: SecretObject) => {
      if (secret.metadata.name !== name) return;
      const encoded = secret.data?.key;
      const key = encoded ? Buffer.from(encoded, 'base64').toString('utf8').trim() : '';
      if (!key) this.log.warn({ secret: name }, 'the bootstrap key Secret has no "key": no bootstrap key');
      this.setBootstrapKey(key || undefined);
    };
    informer.on({
      add: put,
      update: (_, s) => put(s),
      delete: (s) => {
        if (s.metadata.name === name) this.setBootstrapKey(undefined);
      },
    });
  }

  /** The key whose hash is that of `presented`, if any. */
  find(presented: string): ApiKey | undefined {
    const hash = hashKey(presented);
    if (this.bootstrap && sameHash(this.bootstrap.hash, hash)) return this.bootstrap;
    const id = this.idByHash.get(hash);
    const key = id === undefined ? undefined : this.byId.get(id);
    // The map lookup found it by hash; the comparison is constant-time all the same.
    return key && sameHash(key.hash, hash) ? key : undefined;
  }

  /**
   * Whether every key in `key`'s chain of creators still exists. A key made by the bootstrap key,
   * or by no key (a Secret written by hand), stands on its own: the bootstrap key is how an
   * installation is set up, and replacing or removing it does not take the keys made with it.
   */
  standing(key: ApiKey): boolean {
    const seen = new Set<string>([key.id]);
    for (let at = key; ; ) {
      const creator = at.createdBy;
      if (!creator || creator === BOOTSTRAP_KEY_ID) return true;
      if (seen.has(creator) || seen.size > MAX_DEPTH) return false;
      seen.add(creator);
      const parent = this.byId.get(creator);
      if (!parent) return false;
      at = parent;
    }
  }

  /** Whether `ancestor` made `key`, or made the key that made it, and so on. */
  madeBy(key: ApiKey, ancestor: string): boolean {
    const seen = new Set<string>();
    for (let creator = key.createdBy; creator && !seen.has(creator) && seen.size <= MAX_DEPTH; ) {
      if (creator === ancestor) return true;
      seen.add(creator);
      creator = this.byId.get(creator)?.createdBy;
    }
    return false;
  }

  /** The keys `id` made, and those they made, deepest first. */
  descendants(id: string): ApiKey[] {
    const found = this.list().filter((k) => k.id !== id && this.madeBy(k, id));
    const depth = (k: ApiKey) => {
      let n = 0;
      for (let c = k.createdBy; c && c !== id && n <= MAX_DEPTH; c = this.byId.get(c)?.createdBy) n++;
      return n;
    };
    return found.sort((a, b) => depth(b) - depth(a));
  }

  get(id: string): ApiKey | undefined {
    if (id === BOOTSTRAP_KEY_ID) return this.bootstrap;
    return this.byId.get(id);
  }

  /** Every key, the bootstrap key included when there is one. */
  list(): ApiKey[] {
    const keys = [...this.byId.values()];
    if (this.bootstrap) keys.push(this.bootstrap);
    return keys.sort((a, b) => a.id.localeCompare(b.id));
  }

  private drop(secret: SecretObject): void {
    const id = this.idBySecret.get(secret.metadata.name);
    if (id !== undefined) {
      const key = this.byId.get(id);
      if (key) this.idByHash.delete(key.hash);
      this.byId.delete(id);
    }
    this.idBySecret.delete(secret.metadata.name);
  }
}
