import { describe, expect, it } from 'vitest';
import type { ConnectionSecrets } from '../../operator/src/providers/credentials.ts';
import {
  type ExternalLog,
  type ExternalResource,
  finalizeExternal,
  reconcileExternal,
} from '../../operator/src/providers/external.ts';
import {
  type ExternalClient,
  type ExternalContext,
  NotConfiguredError,
  type Observation,
} from '../../operator/src/providers/ports.ts';
import type { SecretData } from '../../operator/src/shared/secrets.ts';
import { liveProject, type ProjectOptions, signal } from './providers/support.ts';

interface Ids {
  name: string;
}

type Scripted = Omit<Observation<Ids>, 'connection'> & {
  /** The connection details, from the password handed over. */
  connection?: (password: string | undefined) => SecretData;
};

/** A provider that records what it was asked to do, with a scripted observation. */
function fakeClient(observation: Scripted | Error, passwordKey?: string) {
  const calls: string[] = [];
  const passwords: (string | undefined)[] = [];
  const done = (what: string, ctx: ExternalContext<Ids>) => {
    calls.push(`${what}${ctx.rotatePassword ? ' rotate' : ''}`);
    passwords.push(ctx.password);
    return { name: `db-${ctx.project.metadata.name}` };
  };
  const client: ExternalClient<Ids> = {
    ids: (p) => ({ name: `db-${p.metadata.name}` }),
    passwordKey,
    async observe(ctx) {
      calls.push('observe');
      if (observation instanceof Error) throw observation;
      const { connection, ...rest } = observation;
      return connection ? { ...rest, connection: connection(ctx.password) } : rest;
    },
    create: async (ctx) => done('create', ctx),
    update: async (ctx) => done('update', ctx),
    async delete(ids) {
      calls.push(`delete ${ids.name}`);
    },
  };
  return { client, calls, passwords };
}

/** Connection Secrets in memory, writing into the same call log as the client. */
function memorySecrets(calls: string[], initial: Record<string, SecretData> = {}) {
  const data = new Map(Object.entries(initial));
  const secrets: ConnectionSecrets = {
    read: async (_p, name) => data.get(name),
    async write(_p, name, d) {
      calls.push(`write ${name}`);
      data.set(name, d);
    },
    async delete(_p, name) {
      calls.push(`delete Secret ${name}`);
      data.delete(name);
    },
  };
  return { secrets, data };
}

function resource(client: ExternalClient<Ids>, secrets?: ConnectionSecrets): ExternalResource<Ids> {
  return {
    name: 'database',
    condition: 'DatabaseReady',
    enabled: (p) => p.spec.database.enabled,
    deletionPolicy: (p) => p.spec.database.deletionPolicy,
    recorded: (p) => (p.status?.database?.name ? { name: p.status.database.name } : undefined),
    rotation: (p) => ({
      requested: p.metadata.annotations?.rotate,
      done: p.status?.database?.passwordRotation,
    }),
    ...(secrets ? { connection: { secretName: (ids: Ids) => `${ids.name}-secret`, secrets } } : {}),
    describe: (ids) => `database ${ids.name}`,
    client,
  };
}

/** What a database provider observes: its user, and the password it was handed. */
const account = (password: string | undefined): SecretData => ({ USER: 'u', PASSWORD: password ?? '' });

const live = (database: Record<string, unknown>, options: ProjectOptions = {}) =>
  liveProject({ database }, { uid: 'u', ...options });

describe('reconcileExternal', () => {
  it('creates what does not exist and records its ids with a True condition', async () => {
    const { client, calls } = fakeClient({ exists: false, upToDate: false });
    const out = await reconcileExternal(resource(client), live({ enabled: true }), signal);
    expect(calls).toEqual(['observe', 'create']);
    expect(out.ids).toEqual({ name: 'db-shop' });
    expect(out.condition).toMatchObject({ type: 'DatabaseReady', status: 'True', reason: 'Provisioned' });
  });

  it('does nothing but observe when up to date, and updates when not', async () => {
    const upToDate = fakeClient({ exists: true, upToDate: true });
    await reconcileExternal(resource(upToDate.client), live({ enabled: true }), signal);
    expect(upToDate.calls).toEqual(['observe']);
    const drifted = fakeClient({ exists: true, upToDate: false, diff: 'role missing' });
    await reconcileExternal(resource(drifted.client), live({ enabled: true }), signal);
    expect(drifted.calls).toEqual(['observe', 'update']);
  });

  it('records the ids observed when there is nothing to create or update', async () => {
    const { client, calls } = fakeClient({ exists: true, upToDate: true, ids: { name: 'db-adopted' } });
    const out = await reconcileExternal(resource(client), live({ enabled: true }), signal);
    expect(calls).toEqual(['observe']);
    expect(out.ids).toEqual({ name: 'db-adopted' });
  });

  it('rotates the password once per requested value', async () => {
    const asked = fakeClient({ exists: true, upToDate: true });
    const out = await reconcileExternal(
      resource(asked.client),
      live({ enabled: true }, { annotations: { rotate: '7' } }),
      signal,
    );
    expect(asked.calls).toEqual(['observe', 'update rotate']);
    expect(out.rotation).toBe('7');
    const done = fakeClient({ exists: true, upToDate: true });
    const again = live(
      { enabled: true },
      { annotations: { rotate: '7' }, status: { database: { name: 'db-shop', passwordRotation: '7' } } },
    );
    await reconcileExternal(resource(done.client), again, signal);
    expect(done.calls).toEqual(['observe']);
  });

  it('reports NotConfigured and retries later', async () => {
    const { client } = fakeClient(new NotConfiguredError('no postgres admin connection is configured'));
    const out = await reconcileExternal(resource(client), live({ enabled: true }), signal);
    expect(out.condition).toMatchObject({
      status: 'False',
      reason: 'NotConfigured',
      message: 'no postgres admin connection is configured',
    });
    expect(out.requeueAfter).toBeGreaterThan(0);
    expect(out.error).toBeUndefined();
  });

  it('puts a failure in the condition, keeps the deterministic ids for cleanup, and hands the error back for backoff', async () => {
    const failure = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const { client } = fakeClient(failure);
    const out = await reconcileExternal(resource(client), live({ enabled: true }), signal);
    expect(out.condition).toMatchObject({
      status: 'False',
      reason: 'ProvisioningFailed',
      message: failure.message,
    });
    expect(out.ids).toEqual({ name: 'db-shop' });
    expect(out.error).toBe(failure);
  });

  it('deletes what status recorded when disabled, unless retained; a disabled resource has no condition', async () => {
    const status = { database: { name: 'db-recorded' } };
    const deleted = fakeClient({ exists: true, upToDate: true });
    const out = await reconcileExternal(
      resource(deleted.client),
      live({ enabled: false, deletionPolicy: 'Delete' }, { status }),
      signal,
    );
    expect(deleted.calls).toEqual(['delete db-recorded']);
    expect(out).toEqual({ ids: undefined });
    const withSecret = fakeClient({ exists: true, upToDate: true });
    await reconcileExternal(
      resource(withSecret.client, memorySecrets(withSecret.calls).secrets),
      live({ enabled: false, deletionPolicy: 'Delete' }, { status }),
      signal,
    );
    expect(withSecret.calls).toEqual(['delete db-recorded', 'delete Secret db-recorded-secret']);
    const kept = fakeClient({ exists: true, upToDate: true });
    await reconcileExternal(
      resource(kept.client),
      live({ enabled: false, deletionPolicy: 'Retain' }, { status }),
      signal,
    );
    expect(kept.calls).toEqual([]);
  });

  it('keeps a generated password in the Secret before the account is created with it', async () => {
    const fake = fakeClient({ exists: false, upToDate: false, connection: account }, 'PASSWORD');
    const { secrets, data } = memorySecrets(fake.calls);
    const out = await reconcileExternal(resource(fake.client, secrets), live({ enabled: true }), signal);
    expect(out.condition?.status).toBe('True');
    expect(fake.calls).toEqual(['observe', 'write db-shop-secret', 'create']);
    const written = data.get('db-shop-secret');
    expect(written?.PASSWORD).toMatch(/^[\w-]{32}$/);
    expect(fake.passwords).toEqual([written?.PASSWORD]);
  });

  it('keeps the password on record; a rotation, or a Secret without one, gets a new one and an update', async () => {
    const onRecord = { 'db-shop-secret': account('old') };
    const same = fakeClient({ exists: true, upToDate: true, connection: account }, 'PASSWORD');
    await reconcileExternal(
      resource(same.client, memorySecrets(same.calls, onRecord).secrets),
      live({ enabled: true }),
      signal,
    );
    expect(same.calls).toEqual(['observe']);

    const rotated = fakeClient({ exists: true, upToDate: true, connection: account }, 'PASSWORD');
    const store = memorySecrets(rotated.calls, onRecord);
    const out = await reconcileExternal(
      resource(rotated.client, store.secrets),
      live({ enabled: true }, { annotations: { rotate: '1' } }),
      signal,
    );
    expect(rotated.calls).toEqual(['observe', 'write db-shop-secret', 'update rotate']);
    expect(rotated.passwords).toEqual([store.data.get('db-shop-secret')?.PASSWORD]);
    expect(rotated.passwords[0]).not.toBe('old');
    expect(out.rotation).toBe('1');

    const lost = fakeClient({ exists: true, upToDate: true, connection: account }, 'PASSWORD');
    await reconcileExternal(
      resource(lost.client, memorySecrets(lost.calls).secrets),
      live({ enabled: true }),
      signal,
    );
    expect(lost.calls).toEqual(['observe', 'write db-shop-secret', 'update']);
  });

  it('republishes outdated connection details without touching what is up to date', async () => {
    const fake = fakeClient({ exists: true, upToDate: true, connection: account }, 'PASSWORD');
    const { secrets, data } = memorySecrets(fake.calls, { 'db-shop-secret': { PASSWORD: 'old', USER: 'x' } });
    await reconcileExternal(resource(fake.client, secrets), live({ enabled: true }), signal);
    expect(fake.calls).toEqual(['observe', 'write db-shop-secret']);
    expect(data.get('db-shop-secret')).toEqual({ USER: 'u', PASSWORD: 'old' });
  });

  it('creates nothing with a password the connection details do not carry', async () => {
    const fake = fakeClient(
      { exists: false, upToDate: false, connection: () => ({ USER: 'u' }) },
      'PASSWORD',
    );
    const out = await reconcileExternal(
      resource(fake.client, memorySecrets(fake.calls).secrets),
      live({ enabled: true }),
      signal,
    );
    expect(out.condition).toMatchObject({ status: 'False', reason: 'ProvisioningFailed' });
    expect(fake.calls).toEqual(['observe']);
  });

  it('logs what differs when it updates', async () => {
    const lines: { fields: object; message: string }[] = [];
    const log: ExternalLog = { info: (fields, message) => lines.push({ fields, message }) };
    const fake = fakeClient({ exists: true, upToDate: false, diff: 'role missing' });
    await reconcileExternal(resource(fake.client), live({ enabled: true }), signal, log);
    expect(lines).toEqual([
      {
        fields: { external: 'database', diff: 'role missing' },
        message: 'updating the database: role missing',
      },
    ]);
  });
});

describe('finalizeExternal', () => {
  it('deletes by the recorded ids, else the deterministic ones, and honours Retain', async () => {
    const recorded = fakeClient({ exists: true, upToDate: true });
    await finalizeExternal(
      resource(recorded.client),
      live({ enabled: true, deletionPolicy: 'Delete' }, { status: { database: { name: 'db-old' } } }),
      signal,
    );
    expect(recorded.calls).toEqual(['delete db-old']);
    const never = fakeClient({ exists: true, upToDate: true });
    await finalizeExternal(resource(never.client), live({ enabled: true, deletionPolicy: 'Delete' }), signal);
    expect(never.calls).toEqual(['delete db-shop']); // a crash before status was written leaks nothing
    const retained = fakeClient({ exists: true, upToDate: true });
    await finalizeExternal(
      resource(retained.client),
      live({ enabled: true, deletionPolicy: 'Retain' }),
      signal,
    );
    expect(retained.calls).toEqual([]);
    const withSecret = fakeClient({ exists: true, upToDate: true });
    await finalizeExternal(
      resource(withSecret.client, memorySecrets(withSecret.calls).secrets),
      live({ enabled: true, deletionPolicy: 'Delete' }),
      signal,
    );
    expect(withSecret.calls).toEqual(['delete db-shop', 'delete Secret db-shop-secret']);
  });
});
