// The API keys in memory: the labelled Secrets as the informer sees them (a deleted key stops
// working as soon as its watch event arrives), plus an optional bootstrap admin key that lives
// only in memory. Lookup is by the hash of the presented key.
import type { Logger } from 'pino';
import type { Informer } from '../../../operator/src/runtime/informer.ts';
import { type ApiKey, apiKeyFromSecret, hashKey, type SecretObject, sameHash } from './api-key.ts';

export const BOOTSTRAP_KEY_ID = 'bootstrap';

export class KeyStore {
  private readonly byHash = new Map<string, ApiKey>();
  private readonly bySecret = new Map<string, string>();
  private bootstrap: ApiKey | undefined;

  constructor(informer: Informer<SecretObject>, log: Logger) {
    const put = (secret: SecretObject) => {
      this.drop(secret);
      const key = apiKeyFromSecret(secret);
      if ('invalid' in key) {
        log.warn({ secret: secret.metadata.name, reason: key.invalid }, 'ignoring an API-key Secret');
        return;
      }
      this.byHash.set(key.hash, key);
      this.bySecret.set(secret.metadata.name, key.hash);
    };
    informer.on({ add: put, update: (_, s) => put(s), delete: (s) => this.drop(s) });
  }

  /** An admin key known only to this process (from a Secret or the environment). */
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

  /** The key whose hash is that of `presented`, if any. */
  find(presented: string): ApiKey | undefined {
    const hash = hashKey(presented);
    if (this.bootstrap && sameHash(this.bootstrap.hash, hash)) return this.bootstrap;
    const key = this.byHash.get(hash);
    // The map lookup found it by hash; the comparison is constant-time all the same.
    return key && sameHash(key.hash, hash) ? key : undefined;
  }

  get(id: string): ApiKey | undefined {
    return [...this.byHash.values()].find((k) => k.id === id);
  }

  list(): ApiKey[] {
    return [...this.byHash.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  private drop(secret: SecretObject): void {
    const hash = this.bySecret.get(secret.metadata.name);
    if (hash) this.byHash.delete(hash);
    this.bySecret.delete(secret.metadata.name);
  }
}
