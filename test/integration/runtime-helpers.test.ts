// Finalizers, server-side apply and events against the real API server.
import { describe, expect, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { applyObject, applyStatus } from '../../operator/src/runtime/apply.ts';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { EventRecorder } from '../../operator/src/runtime/events.ts';
import { addFinalizer, removeFinalizer } from '../../operator/src/runtime/finalizers.ts';
import { CONFIG_MAPS, EVENTS } from '../../operator/src/runtime/resources.ts';
import { installCrds } from './support/crds.ts';
import { kubeConfig, uniqueName, untilGone, useNamespace } from './support/kube.ts';

const kc = kubeConfig();
const client = new KubeClient(kc);
const ns = useNamespace('rdev-helpers');

describe('finalizers', () => {
  it('are added and removed without touching other finalizers', async () => {
    const name = uniqueName('fin');
    let cm = await client.create<KubeObject>(CONFIG_MAPS, {
      metadata: { name, namespace: ns.name, finalizers: ['example.com/other'] },
    });
    cm = await addFinalizer(client, CONFIG_MAPS, cm, 'rdev.dev/test');
    expect(cm.metadata.finalizers).toEqual(['example.com/other', 'rdev.dev/test']);
    expect(await addFinalizer(client, CONFIG_MAPS, cm, 'rdev.dev/test')).toBe(cm); // already there: no call

    // Someone else edits the list meanwhile: our stale view must not clobber it.
    await client.patch(
      CONFIG_MAPS,
      ns.name,
      name,
      { metadata: { finalizers: ['example.com/other', 'rdev.dev/test', 'example.com/third'] } },
      'merge',
    );
    const fresh = await removeFinalizer(
      client,
      CONFIG_MAPS,
      await client.get(CONFIG_MAPS, ns.name, name),
      'rdev.dev/test',
    );
    expect(fresh?.metadata.finalizers).toEqual(['example.com/other', 'example.com/third']);

    await client.patch(CONFIG_MAPS, ns.name, name, { metadata: { finalizers: null } }, 'merge');
    await client.delete(CONFIG_MAPS, ns.name, name);
    await untilGone(() => client.get(CONFIG_MAPS, ns.name, name));
  });
});

describe('server-side apply', () => {
  it('applies objects and the status subresource of a custom resource, keeping its spec intact', async () => {
    await installCrds(kc);
    const name = uniqueName('ssa');
    const applied = await applyObject(
      client,
      PROJECTS,
      { metadata: { name, namespace: ns.name }, spec: { displayName: 'SSA', database: { enabled: true } } },
      { fieldManager: 'rdev-test' },
    );
    expect(applied.spec).toMatchObject({
      displayName: 'SSA',
      database: { enabled: true, engine: 'postgres' },
    });
    const withStatus = await applyStatus<KubeObject & { status?: { phase?: string } }>(
      client,
      PROJECTS,
      { metadata: { name, namespace: ns.name }, status: { phase: 'Provisioning', observedGeneration: 1 } },
      { fieldManager: 'rdev-test' },
    );
    expect(withStatus.status?.phase).toBe('Provisioning');
    expect((withStatus as { spec?: { displayName?: string } }).spec?.displayName).toBe('SSA');
  });
});

describe('events', () => {
  it('are recorded about an object, and a repeat counts in the series of the first', async () => {
    const cm = await client.create<KubeObject>(CONFIG_MAPS, {
      metadata: { name: uniqueName('ev'), namespace: ns.name },
    });
    const recorder = new EventRecorder(client, { controller: 'rdev.dev/test', instance: 'test-1' });
    const event = {
      type: 'Warning' as const,
      reason: 'SecretMissing',
      action: 'Reconcile',
      note: 'secret "anthropic" not found',
    };
    await recorder.record(cm, CONFIG_MAPS, event);
    await recorder.record(cm, CONFIG_MAPS, event);
    await recorder.record(cm, CONFIG_MAPS, event);
    const list = await client.list<
      KubeObject & { regarding?: { uid?: string }; series?: { count: number }; note?: string }
    >(EVENTS, ns.name);
    const mine = list.items.filter((e) => e.regarding?.uid === cm.metadata.uid);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.series?.count).toBe(3);
    expect(mine[0]?.note).toBe('secret "anthropic" not found');
  });
});
