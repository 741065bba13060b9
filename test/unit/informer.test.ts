import { describe, expect, it } from 'vitest';
import { Backoff } from '../../operator/src/runtime/backoff.ts';
import type { KubeObject, ObjectList, WatchEvent } from '../../operator/src/runtime/client.ts';
import { Informer } from '../../operator/src/runtime/informer.ts';
import type { ListWatch } from '../../operator/src/runtime/reflector.ts';

const obj = (name: string, rv: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv, ...extra },
});

type WatchScript<T = KubeObject> = (emit: (e: WatchEvent<T>) => void, signal: AbortSignal) => Promise<void>;

/** A scripted source: each list call takes the next list, each watch call the next script. */
class ScriptedSource<T extends KubeObject = KubeObject> implements ListWatch<T> {
  readonly listCalls: (string | undefined)[] = [];
  readonly watchFrom: string[] = [];
  private readonly lists: ObjectList<T>[][];
  private readonly watches: WatchScript<T>[];

  constructor(lists: ObjectList<T>[][], watches: WatchScript<T>[]) {
    this.lists = lists;
    this.watches = watches;
  }

  async list(o: { limit: number; continue?: string }): Promise<ObjectList<T>> {
    this.listCalls.push(o.continue);
    const pages = this.lists[0];
    const page = pages?.shift();
    if (pages && pages.length === 0) this.lists.shift();
    if (!page) throw new Error('no more lists scripted');
    return page;
  }

  async watch(o: { resourceVersion: string }, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal) {
    this.watchFrom.push(o.resourceVersion);
    const script =
      this.watches.shift() ??
      ((_e, s) => new Promise<void>((r) => (s.aborted ? r() : s.addEventListener('abort', () => r()))));
    await script(onEvent, signal);
  }
}

const page = <T extends KubeObject>(items: T[], rv: string, cont?: string): ObjectList<T> => ({
  metadata: { resourceVersion: rv, continue: cont },
  items,
});

function recorder<T extends KubeObject>(informer: Informer<T>) {
  const events: string[] = [];
  informer.on({
    add: (o) => events.push(`add ${o.metadata.name}`),
    update: (_old, o) => events.push(`update ${o.metadata.name}@${o.metadata.resourceVersion}`),
    delete: (o) => events.push(`delete ${o.metadata.name}`),
  });
  return events;
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
};

const fastBackoff = () => new Backoff(1, 2, () => 0);

describe('Informer', () => {
  it('lists every page, then watches from the list version, applying events in order', async () => {
    const source = new ScriptedSource(
      [[page([obj('a', '1')], '', 'next'), page([obj('b', '2')], '10')]],
      [
        async (emit) => {
          emit({ type: 'ADDED', object: obj('c', '11') });
          emit({ type: 'MODIFIED', object: obj('a', '12') });
          emit({ type: 'DELETED', object: obj('b', '13') });
        },
      ],
    );
    const informer = new Informer(source, { backoff: fastBackoff() });
    const events = recorder(informer);
    const run = new AbortController();
    const done = informer.run(run.signal);
    await informer.waitForSync();
    await until(() => events.length === 5);
    expect(events).toEqual(['add a', 'add b', 'add c', 'update a@12', 'delete b']);
    expect(source.listCalls).toEqual([undefined, 'next']);
    expect(source.watchFrom[0]).toBe('10');
    expect(informer.store.keys().sort()).toEqual(['ns/a', 'ns/c']);
    // the first watch ended normally: the next one resumes from the last event, without listing
    await until(() => source.watchFrom.length === 2);
    expect(source.watchFrom[1]).toBe('13');
    expect(informer.stats.lists).toBe(1);
    run.abort();
    await done;
  });

  it('moves its resume point on bookmarks without telling handlers', async () => {
    const source = new ScriptedSource<KubeObject>(
      [[page([], '5')]],
      [async (emit) => emit({ type: 'BOOKMARK', object: obj('', '42') })],
    );
    const informer = new Informer(source, { backoff: fastBackoff() });
    const events = recorder(informer);
    const run = new AbortController();
    const done = informer.run(run.signal);
    await until(() => source.watchFrom.length === 2);
    expect(source.watchFrom).toEqual(['5', '42']);
    expect(events).toEqual([]);
    run.abort();
    await done;
  });

  it('relists after 410 Gone and turns what vanished into deletes', async () => {
    const source = new ScriptedSource(
      [[page([obj('a', '1'), obj('b', '2')], '10')], [page([obj('a', '1'), obj('c', '20')], '30')]],
      [
        async (emit) =>
          emit({
            type: 'ERROR',
            object: { code: 410, reason: 'Expired', message: 'too old resource version: 10 (25)' },
          }),
      ],
    );
    const informer = new Informer(source, { backoff: fastBackoff() });
    const events = recorder(informer);
    const run = new AbortController();
    const done = informer.run(run.signal);
    await until(() => source.watchFrom.length === 2);
    expect(events).toEqual(['add a', 'add b', 'add c', 'delete b']); // a unchanged: no update
    expect(source.watchFrom).toEqual(['10', '30']);
    expect(informer.stats.expired).toBe(1);
    run.abort();
    await done;
  });

  it('survives a failing watch: backs off, then resumes from the last version without relisting', async () => {
    const source = new ScriptedSource(
      [[page([obj('a', '1')], '10')]],
      [
        async (emit) => {
          emit({ type: 'MODIFIED', object: obj('a', '11') });
          throw new Error('connection reset');
        },
        async () => {
          throw new Error('connection refused');
        },
      ],
    );
    const informer = new Informer(source, { backoff: fastBackoff() });
    recorder(informer);
    const run = new AbortController();
    const done = informer.run(run.signal);
    await until(() => source.watchFrom.length === 3);
    expect(source.watchFrom).toEqual(['10', '11', '11']);
    expect(informer.stats).toMatchObject({ lists: 1, errors: 2 });
    run.abort();
    await done;
  });

  it('keeps working when a handler throws', async () => {
    const source = new ScriptedSource([[page([obj('a', '1')], '10')]], []);
    const informer = new Informer(source, { backoff: fastBackoff() });
    informer.on({
      add: () => {
        throw new Error('boom');
      },
    });
    const events = recorder(informer);
    const run = new AbortController();
    const done = informer.run(run.signal);
    await informer.waitForSync();
    expect(events).toEqual(['add a']);
    run.abort();
    await done;
  });

  it('indexes objects by controller owner and by custom fields, and strips managedFields', async () => {
    const owned = obj('pod', '1', {
      ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u-1', controller: true }],
      managedFields: [{ manager: 'kubectl' }],
      labels: { project: 'shop' },
    });
    const source = new ScriptedSource([[page([owned, obj('other', '2')], '10')]], []);
    const informer = new Informer(source, {
      indexers: { project: (o) => [o.metadata.labels?.project ?? ''] },
    });
    const run = new AbortController();
    const done = informer.run(run.signal);
    await informer.waitForSync();
    expect(informer.store.byIndex('controllerUid', 'u-1').map((o) => o.metadata.name)).toEqual(['pod']);
    expect(informer.store.byIndex('project', 'shop').map((o) => o.metadata.name)).toEqual(['pod']);
    expect(informer.store.get('ns/pod')?.metadata.managedFields).toBeUndefined();
    run.abort();
    await done;
  });

  it('parses each object as it arrives; one that does not parse is skipped, the cache keeps its version', async () => {
    // As the API server sends it, size may be missing or not a number; parsed, it is a number.
    type Sized = KubeObject & { size?: unknown };
    const sized = (name: string, rv: string, size?: unknown): Sized => ({ ...obj(name, rv), size });
    const parse = (o: KubeObject): Sized => {
      const size = 'size' in o ? (o.size ?? 1) : 1; // a default, filled in once
      if (typeof size !== 'number') throw new Error(`${o.metadata.name}: size is not a number`);
      return { ...o, size };
    };
    const source = new ScriptedSource(
      [[page([sized('a', '1'), sized('bad', '2', 'big'), sized('b', '3', 7)], '10')]],
      [
        async (emit) => {
          emit({ type: 'MODIFIED', object: sized('a', '11', 'huge') }); // skipped: a@1 stays
          emit({ type: 'MODIFIED', object: sized('b', '12', 8) });
          emit({ type: 'DELETED', object: sized('bad', '13', 'big') }); // never cached: no delete
        },
      ],
    );
    const invalid: string[] = [];
    const informer = new Informer<Sized>(source, {
      parse,
      onInvalid: (o) => invalid.push(`${o.metadata.name}@${o.metadata.resourceVersion}`),
    });
    const events = recorder(informer);
    const run = new AbortController();
    const done = informer.run(run.signal);
    await informer.waitForSync();
    await until(() => events.length === 3);
    expect(events).toEqual(['add a', 'add b', 'update b@12']);
    expect(informer.store.get('ns/a')).toMatchObject({ size: 1, metadata: { resourceVersion: '1' } });
    expect(informer.store.get('ns/b')?.size).toBe(8);
    expect(informer.store.get('ns/bad')).toBeUndefined();
    await until(() => invalid.length === 3);
    expect(invalid).toEqual(['bad@2', 'a@11', 'bad@13']);
    expect(informer.stats.invalid).toBe(3);
    run.abort();
    await done;
  });

  it('feeds one store from one reflector per namespace; a relist in one deletes nothing of the other', async () => {
    const inA = (name: string, rv: string) => ({ metadata: { name, namespace: 'a', resourceVersion: rv } });
    const inB = (name: string, rv: string) => ({ metadata: { name, namespace: 'b', resourceVersion: rv } });
    const a = new ScriptedSource(
      [[page([inA('x', '1')], '10')], [page([], '20')]],
      [async (emit) => emit({ type: 'ERROR', object: { code: 410, reason: 'Expired', message: 'too old' } })],
    );
    const b = new ScriptedSource([[page([inB('y', '2')], '11')]], []);
    const informer = new Informer(
      [
        { namespace: 'a', source: a },
        { namespace: 'b', source: b },
      ],
      { backoff: fastBackoff() },
    );
    const events = recorder(informer);
    const run = new AbortController();
    const done = informer.run(run.signal);
    await informer.waitForSync();
    expect(informer.store.keys().sort()).toEqual(['a/x', 'b/y']);
    await until(() => a.watchFrom.length === 2);
    expect(informer.store.keys()).toEqual(['b/y']); // a's relist found x gone; b's y stays
    expect(events).toContain('delete x');
    expect(events).not.toContain('delete y');
    expect(informer.stats).toMatchObject({ lists: 3, expired: 1 });
    run.abort();
    await done;
  });
});
