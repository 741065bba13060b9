import { describe, expect, it } from 'vitest';
import type { LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { project as projectSchema } from '../../operator/src/api/v1alpha1/index.ts';
import {
  type ExternalResource,
  finalizeExternal,
  reconcileExternal,
} from '../../operator/src/providers/external.ts';
import {
  type ExternalClient,
  NotConfiguredError,
  type Observation,
} from '../../operator/src/providers/ports.ts';

interface Ids {
  name: string;
}

/** A provider that records what it was asked to do, with a scripted observation. */
function fakeClient(observation: Observation | Error) {
  const calls: string[] = [];
  const client: ExternalClient<Ids> = {
    ids: (p) => ({ name: `db-${p.metadata.name}` }),
    async observe() {
      calls.push('observe');
      if (observation instanceof Error) throw observation;
      return observation;
    },
    async create(ctx) {
      calls.push(`create${ctx.rotatePassword ? ' rotate' : ''}`);
      return { name: `db-${ctx.project.metadata.name}` };
    },
    async update(ctx) {
      calls.push(`update${ctx.rotatePassword ? ' rotate' : ''}`);
      return { name: `db-${ctx.project.metadata.name}` };
    },
    async delete(ids) {
      calls.push(`delete ${ids.name}`);
    },
  };
  return { client, calls };
}

function resource(client: ExternalClient<Ids>): ExternalResource<Ids> {
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
    envSecret: (ids) => `${ids.name}-secret`,
    describe: (ids) => `database ${ids.name}`,
    client,
  };
}

function live(
  database: Record<string, unknown>,
  extra: { status?: object; annotations?: Record<string, string> } = {},
) {
  return projectSchema.parse({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: 'shop', namespace: 'team', uid: 'u', generation: 1, annotations: extra.annotations },
    spec: { database },
    status: extra.status,
  }) as LiveProject;
}

const signal = new AbortController().signal;

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
    const kept = fakeClient({ exists: true, upToDate: true });
    await reconcileExternal(
      resource(kept.client),
      live({ enabled: false, deletionPolicy: 'Retain' }, { status }),
      signal,
    );
    expect(kept.calls).toEqual([]);
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
  });
});
