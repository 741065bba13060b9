// Work queue throughput: keys through add → get → done per second, with all-distinct keys and
// with heavy duplication (the dirty set absorbs repeats). Run: make bench
import { WorkQueue } from '../operator/src/runtime/workqueue.ts';
import { row } from './support.ts';

async function run(label: string, total: number, distinct: number): Promise<void> {
  const q = new WorkQueue<string>();
  const keys = Array.from({ length: distinct }, (_, i) => `ns/object-${i}`);
  const started = performance.now();
  let processed = 0;
  const batch = 10_000; // adds between drains: duplicates within a batch collapse
  for (let added = 0; added < total; added += batch) {
    for (let i = 0; i < batch; i++) q.add(keys[(added + i) % distinct] as string);
    while (q.length > 0) {
      const key = (await q.get()) as string;
      q.done(key);
      processed++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  row(
    label,
    `${Math.round(total / seconds)
      .toLocaleString('en')
      .padStart(12)} adds/s` +
      `  (${total.toLocaleString('en')} adds, ${processed.toLocaleString('en')} reconciles, ${seconds.toFixed(2)} s)`,
  );
}

console.log('# work queue');
await run('distinct keys', 1_000_000, 1_000_000);
await run('10 adds per key (1,000 keys)', 1_000_000, 1_000);
await run('100 adds per key (100 keys)', 1_000_000, 100);
