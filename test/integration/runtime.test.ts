// The controller runtime against the real API server: informers through outages and 410s,
// owner-triggered reconciles, retries with backoff in the metrics, leader election across
// processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { Informer } from '../../operator/src/runtime/informer.ts';
import { createLogger } from '../../operator/src/runtime/logging.ts';
import { Manager, type ManagerOptions } from '../../operator/src/runtime/manager.ts';
import { CONFIG_MAPS, SECRETS } from '../../operator/src/runtime/resources.ts';
import { planeComponent } from './support/hack.ts';
import { configMapOwnerRef, eventually, kubeConfig, uniqueName, useNamespace } from './support/kube.ts';

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const ns = useNamespace('rdev-runtime');
const quiet = createLogger({ level: 'silent' });
const local = inject('plane').kind === 'local';

const configMap = (name: string, data: Record<string, string> = {}) =>
  core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name }, data } });
/** A manager of the test's namespace, not started yet. */
const newManager = (name: string, options: Partial<ManagerOptions> = {}) =>
  new Manager({ kubeConfig: kc, namespaces: [ns.name], log: quiet, name, ...options });

describe('informer', () => {
  it('sees creates, updates and deletes, and survives an API server restart with a 410', async () => {
    const client = new KubeClient(kc);
    const informer = Informer.forResource<KubeObject & { data?: Record<string, string> }>(
      client,
      CONFIG_MAPS,
      { namespaces: [ns.name], log: quiet },
    );
    const seen: string[] = [];
    informer.on({
      add: (o) => seen.push(`add ${o.metadata.name}`),
      update: (_old, o) => seen.push(`update ${o.metadata.name} ${o.data?.v ?? ''}`),
      delete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    const run = new AbortController();
    const running = informer.run(run.signal);
    try {
      await informer.waitForSync();
      await configMap('watched', { v: '1' });
      await client.patch(CONFIG_MAPS, ns.name, 'watched', { data: { v: '2' } }, 'merge');
      await core.deleteNamespacedConfigMap({ name: 'watched', namespace: ns.name });
      await eventually(() => seen.includes('delete watched'));
      expect(seen.filter((e) => e.includes('watched'))).toEqual([
        'add watched',
        'update watched 2',
        'delete watched',
      ]);
      if (!local) return; // restarting the API server needs the local plane

      // A write elsewhere moves etcd past the informer's resume point; a restarted API server's
      // watch cache starts after it, so resuming answers 410 Gone and the informer must relist.
      await core.createNamespacedSecret({
        namespace: ns.name,
        body: { metadata: { name: uniqueName('bump') } },
      });
      const expiredBefore = informer.stats.expired;
      await planeComponent('stop-component', 'kube-apiserver');
      await new Promise((r) => setTimeout(r, 1500)); // the informer's watch fails and retries meanwhile
      await planeComponent('start-component', 'kube-apiserver');

      await eventually(() => informer.stats.expired > expiredBefore, { timeoutMs: 90_000 });
      await eventually(() => configMap('after-restart').then(() => true), { timeoutMs: 60_000 });
      await eventually(() => seen.includes('add after-restart'), { timeoutMs: 60_000 });
      expect(informer.stats.errors).toBeGreaterThan(0);
      expect(informer.store.get(`${ns.name}/after-restart`)).toBeDefined();
    } finally {
      run.abort();
      await running;
    }
  });
});

describe('manager and controllers', () => {
  it('reconcile the owner when an owned child changes', async () => {
    const manager = newManager('rdev-owns-test');
    const reconciled: string[] = [];
    manager
      .controller('owners')
      .for(CONFIG_MAPS)
      .owns(SECRETS)
      .complete(async (key) => {
        reconciled.push(key);
        return undefined;
      });
    await manager.start();
    try {
      const owner = await configMap(uniqueName('owner'));
      const key = `${ns.name}/${owner.metadata?.name}`;
      await eventually(() => reconciled.includes(key));
      const before = reconciled.filter((k) => k === key).length;
      await core.createNamespacedSecret({
        namespace: ns.name,
        body: {
          metadata: {
            name: uniqueName('child'),
            ownerReferences: [configMapOwnerRef(owner)],
          },
        },
      });
      await eventually(() => reconciled.filter((k) => k === key).length > before);
    } finally {
      await manager.stop();
    }
  });

  it('retry a failing reconcile with growing delays, visible in the metrics', async () => {
    const manager = newManager('rdev-retry-test', { listen: [{ host: '127.0.0.1', port: 0 }] });
    const attempts: number[] = [];
    const failing = uniqueName('failing');
    manager
      .controller('failing')
      .for(CONFIG_MAPS)
      .complete(async (key) => {
        if (key !== `${ns.name}/${failing}`) return undefined;
        attempts.push(performance.now());
        throw new Error('always fails');
      });
    await manager.start();
    try {
      await configMap(failing);
      await eventually(() => attempts.length >= 9, { timeoutMs: 30_000 });
      const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
      // 5 ms doubling: the eighth wait (~640 ms) dwarfs the first (~5 ms)
      expect(gaps[7] as number).toBeGreaterThan(4 * (gaps[0] as number));
      expect(gaps[7] as number).toBeGreaterThan(gaps[4] as number);

      const metrics = await (await fetch(`http://127.0.0.1:${manager.ports[0]}/metrics`)).text();
      const value = (line: RegExp) => Number(metrics.match(line)?.[1] ?? 'NaN');
      expect(
        value(/controller_runtime_reconcile_errors_total\{controller="failing"\} (\d+)/),
      ).toBeGreaterThanOrEqual(9);
      expect(
        value(/workqueue_retries_total\{name="failing",controller="failing"\} (\d+)/),
      ).toBeGreaterThanOrEqual(9);
      expect(
        value(/controller_runtime_reconcile_total\{controller="failing",result="error"\} (\d+)/),
      ).toBeGreaterThanOrEqual(9);
      expect(metrics).toMatch(/rest_client_requests_total\{verb="list",code="200"\} \d+/);
      const ready = await fetch(`http://127.0.0.1:${manager.ports[0]}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      await manager.stop();
    }
  });
});

describe('leader election', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  interface Line {
    event: string;
    who: string;
    key?: string;
    at: number;
  }

  function startManager(identity: string, lines: Line[]): ChildProcess {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'leader-manager.ts')], {
      env: { ...process.env, KUBECONFIG_PATH: inject('kubeconfig'), IDENTITY: identity, NAMESPACE: ns.name },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> }).on('line', (l) =>
      lines.push(JSON.parse(l) as Line),
    );
    children.push(child);
    return child;
  }

  const reconcilers = (lines: Line[]) => new Set(lines.filter((l) => l.event === 'start').map((l) => l.who));

  /** No reconcile of one process overlaps in time with one of another. */
  function assertNoOverlap(lines: Line[]) {
    const spans = new Map<string, { who: string; start: number; end: number }[]>();
    const open = new Map<string, number>();
    for (const l of lines) {
      if (l.event === 'start') open.set(`${l.who}|${l.key}`, l.at);
      if (l.event === 'end') {
        const start = open.get(`${l.who}|${l.key}`) ?? l.at;
        spans.set(l.who, [...(spans.get(l.who) ?? []), { who: l.who, start, end: l.at }]);
      }
    }
    const all = [...spans.values()].flat().sort((a, b) => a.start - b.start);
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1], all[i]] as [(typeof all)[0], (typeof all)[0]];
      if (a.who !== b.who) expect(b.start).toBeGreaterThanOrEqual(a.end);
    }
  }

  it('lets one manager reconcile at a time; a standby takes over after SIGKILL and at once after SIGTERM', async () => {
    const lines: Line[] = [];
    const a = startManager('manager-a', lines);
    await eventually(() => lines.some((l) => l.event === 'ready' && l.who === 'manager-a'));
    const b = startManager('manager-b', lines);
    await eventually(() => lines.some((l) => l.event === 'ready' && l.who === 'manager-b'));

    let n = 0;
    const writes = setInterval(() => void configMap(`le-${n++}`).catch(() => undefined), 100);
    try {
      await eventually(() => reconcilers(lines).size === 1 && n > 10);
      const [leader] = [...reconcilers(lines)] as [string];
      const standby = leader === 'manager-a' ? 'manager-b' : 'manager-a';
      expect(reconcilers(lines)).toEqual(new Set([leader]));

      const killedAt = Date.now();
      (leader === 'manager-a' ? a : b).kill('SIGKILL');
      await eventually(() => lines.some((l) => l.event === 'start' && l.who === standby && l.at > killedAt), {
        timeoutMs: 20_000,
      });

      // A third candidate; the leader's SIGTERM releases the lease, so it need not wait for expiry.
      const c = startManager('manager-c', lines);
      await eventually(() => lines.some((l) => l.event === 'ready' && l.who === 'manager-c'));
      const stoppedAt = Date.now();
      (standby === 'manager-a' ? a : b).kill('SIGTERM');
      await eventually(
        () => lines.some((l) => l.event === 'start' && l.who === 'manager-c' && l.at > stoppedAt),
        {
          timeoutMs: 10_000, // well under the 15 s lease duration: only a released lease is taken this fast
        },
      );
      c.kill('SIGTERM');
      assertNoOverlap(lines);
    } finally {
      clearInterval(writes);
    }
  });
});
