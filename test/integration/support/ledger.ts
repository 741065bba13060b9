// A ledger of item runs: the item's command appends `start` and `end` lines (item name, attempt,
// nanosecond clock) to one file, so that a test can count how often each item ran and how many
// ran at once, from what the processes did rather than from what the API says.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Run {
  item: string;
  attempt: number;
  start: number;
  /** Unset when the run never finished (its process was killed). */
  end?: number;
}

export class Ledger {
  readonly path = join(mkdtempSync(join(tmpdir(), 'rdev-ledger-')), 'runs.log');

  /** A WorkItem command that records its run around `sleep seconds`. */
  command(seconds: number): string[] {
    const line = (what: string) =>
      `echo "${what} $RDEV_WORK_ITEM $RDEV_ATTEMPT $(date +%s%N)" >> ${this.path}`;
    return ['sh', '-c', `${line('start')}; sleep ${seconds}; ${line('end')}`];
  }

  runs(): Run[] {
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    const runs = new Map<string, Run>();
    for (const line of text.split('\n').filter(Boolean)) {
      const [what, item = '', attempt = '0', ns = '0'] = line.split(' ');
      const key = `${item}#${attempt}`;
      const at = Number(BigInt(ns) / 1000n) / 1000; // milliseconds, with microseconds
      if (what === 'start') runs.set(key, { item, attempt: Number(attempt), start: at });
      else {
        const run = runs.get(key);
        if (run) run.end = at;
      }
    }
    return [...runs.values()].sort((a, b) => a.start - b.start);
  }

  /** How many times each item started and finished. */
  counts(): Map<string, { started: number; finished: number }> {
    const counts = new Map<string, { started: number; finished: number }>();
    for (const run of this.runs()) {
      const c = counts.get(run.item) ?? { started: 0, finished: 0 };
      c.started++;
      if (run.end !== undefined) c.finished++;
      counts.set(run.item, c);
    }
    return counts;
  }

  /** The most runs in progress at one instant, per group (`group` maps an item to its group). */
  maxConcurrent(group: (item: string) => string = () => 'all'): Map<string, number> {
    const events = this.runs().flatMap((r) => [
      { at: r.start, delta: 1, group: group(r.item) },
      { at: r.end ?? Number.POSITIVE_INFINITY, delta: -1, group: group(r.item) },
    ]);
    // Ends sort before starts at the same instant: a slot freed and reused is not an overlap.
    events.sort((a, b) => a.at - b.at || a.delta - b.delta);
    const now = new Map<string, number>();
    const max = new Map<string, number>();
    for (const e of events) {
      const n = (now.get(e.group) ?? 0) + e.delta;
      now.set(e.group, n);
      max.set(e.group, Math.max(max.get(e.group) ?? 0, n));
    }
    return max;
  }
}
