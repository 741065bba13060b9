import { describe, expect, it } from 'vitest';
import {
  type Binding,
  type Candidate,
  type Limits,
  type PlanInput,
  plan,
} from '../../operator/src/queue/plan.ts';

const NO_LIMITS: Limits = { maxRunning: 0, maxRunningPerProject: 0 };

/** A candidate created `minute` minutes after a fixed start, named by its key. */
function cand(key: string, project: string, minute = 0, priority = 0): Candidate {
  const created = new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
  return { key, project, priority, age: `${created}/${key}` };
}

function input(overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    candidates: [],
    workers: [{ name: 'w1', free: 10 }],
    boundByProject: new Map(),
    boundTotal: 0,
    limits: NO_LIMITS,
    lastServed: new Map(),
    ...overrides,
  };
}

/** `count` candidates of `project`, named project1, project2, …, created a minute apart from `minute`. */
const series = (project: string, count: number, minute = 0): Candidate[] =>
  Array.from({ length: count }, (_, i) => cand(`${project}${i + 1}`, project, minute + i));

const keys = (bindings: Binding[]) => bindings.map((b) => b.key);

describe('plan: what there is to bind', () => {
  it('binds nothing without candidates or without free slots', () => {
    expect(plan(input())).toEqual([]);
    expect(plan(input({ candidates: [cand('a1', 'a')], workers: [] }))).toEqual([]);
    expect(
      plan(
        input({
          candidates: [cand('a1', 'a')],
          workers: [
            { name: 'full', free: 0 },
            { name: 'over', free: -2 },
          ],
        }),
      ),
    ).toEqual([]);
  });

  it('binds every candidate once when there is room, naming its project and worker', () => {
    const bindings = plan(input({ candidates: [cand('a1', 'a'), cand('b1', 'b', 1)] }));
    expect(bindings).toEqual([
      { key: 'a1', project: 'a', worker: 'w1' },
      { key: 'b1', project: 'b', worker: 'w1' },
    ]);
  });

  it('binds no more than the free slots of all workers together', () => {
    const candidates = Array.from({ length: 10 }, (_, i) => cand(`a${i}`, 'a', i));
    const bindings = plan(
      input({
        candidates,
        workers: [
          { name: 'w1', free: 2 },
          { name: 'w2', free: 1 },
          { name: 'w3', free: -1 },
        ],
      }),
    );
    expect(keys(bindings)).toEqual(['a0', 'a1', 'a2']);
    const on = (worker: string) => bindings.filter((b) => b.worker === worker).length;
    expect([on('w1'), on('w2'), on('w3')]).toEqual([2, 1, 0]);
  });

  it('does not change its inputs', () => {
    const workers = [{ name: 'w1', free: 2 }];
    const boundByProject = new Map([['a', 1]]);
    const lastServed = new Map([['a', 4]]);
    const candidates = [cand('a2', 'a', 2), cand('a1', 'a', 1)];
    plan(input({ candidates, workers, boundByProject, lastServed, boundTotal: 1 }));
    expect(workers).toEqual([{ name: 'w1', free: 2 }]);
    expect([...boundByProject]).toEqual([['a', 1]]);
    expect([...lastServed]).toEqual([['a', 4]]);
    expect(candidates.map((c) => c.key)).toEqual(['a2', 'a1']);
  });
});

describe('plan: order', () => {
  it('starts higher priorities first, even against fair share', () => {
    const bindings = plan(
      input({
        candidates: [cand('b-low', 'b', 0, 0), cand('a-high1', 'a', 5, 10), cand('a-high2', 'a', 6, 10)],
        workers: [{ name: 'w1', free: 2 }],
        boundByProject: new Map([['a', 5]]),
        boundTotal: 5,
      }),
    );
    expect(keys(bindings)).toEqual(['a-high1', 'a-high2']);
  });

  it('orders negative priorities below the default', () => {
    const bindings = plan(
      input({
        candidates: [cand('neg', 'a', 0, -5), cand('zero', 'b', 9, 0)],
        workers: [{ name: 'w1', free: 1 }],
      }),
    );
    expect(keys(bindings)).toEqual(['zero']);
  });

  it('lets a lower priority start when every higher-priority item is held back by its project limit', () => {
    const bindings = plan(
      input({
        candidates: [cand('a-high', 'a', 0, 5), cand('b-low', 'b', 1, 0)],
        boundByProject: new Map([['a', 2]]),
        boundTotal: 2,
        limits: { maxRunning: 0, maxRunningPerProject: 2 },
      }),
    );
    expect(keys(bindings)).toEqual(['b-low']);
  });

  it('runs the oldest item of a project first, whatever order the candidates come in', () => {
    const bindings = plan(
      input({
        candidates: [cand('late', 'a', 30), cand('early', 'a', 1), cand('middle', 'a', 10)],
        workers: [{ name: 'w1', free: 2 }],
      }),
    );
    expect(keys(bindings)).toEqual(['early', 'middle']);
  });

  it('breaks a tie in creation time by name', () => {
    const bindings = plan(
      input({ candidates: [cand('b', 'a', 0), cand('a', 'a', 0)], workers: [{ name: 'w1', free: 1 }] }),
    );
    expect(keys(bindings)).toEqual(['a']);
  });

  it('takes turns between projects at equal priority instead of draining the oldest project', () => {
    const candidates = [...series('a', 3, 0), ...series('b', 2, 10), ...series('c', 1, 20)];
    const bindings = plan(input({ candidates, workers: [{ name: 'w1', free: 5 }] }));
    expect(keys(bindings)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2']);
  });

  it('serves the project with the fewest bound items first', () => {
    const bindings = plan(
      input({
        candidates: [...series('a', 2, 0), ...series('b', 2, 5)],
        workers: [{ name: 'w1', free: 3 }],
        boundByProject: new Map([['a', 2]]),
        boundTotal: 2,
      }),
    );
    // b catches up with a's two bound items before a gets another.
    expect(keys(bindings)).toEqual(['b1', 'b2', 'a1']);
  });

  it('counts items bound at any priority when sharing fairly', () => {
    const bindings = plan(
      input({
        candidates: [cand('a1', 'a', 0, 0), cand('b1', 'b', 5, 0)],
        workers: [{ name: 'w1', free: 1 }],
        boundByProject: new Map([['a', 1]]),
        boundTotal: 1,
      }),
    );
    expect(keys(bindings)).toEqual(['b1']);
  });

  it('at equal bound counts serves the project served longest ago, then the oldest head item', () => {
    const candidates = [cand('a1', 'a', 0), cand('b1', 'b', 5), cand('c1', 'c', 9)];
    const one = { name: 'w1', free: 1 };
    // a was served most recently, b before it, c never: c goes first despite being youngest.
    const served = new Map([
      ['a', 7],
      ['b', 3],
    ]);
    expect(keys(plan(input({ candidates, workers: [one], lastServed: served })))).toEqual(['c1']);
    // Without c, b (served earlier than a) goes first.
    expect(
      keys(plan(input({ candidates: candidates.slice(0, 2), workers: [one], lastServed: served }))),
    ).toEqual(['b1']);
    // Nobody served yet: the oldest head item decides.
    expect(keys(plan(input({ candidates, workers: [one] })))).toEqual(['a1']);
  });

  it('counts a project served in this pass as served after every earlier pass', () => {
    const bindings = plan(
      input({
        candidates: [...series('a', 1, 0), ...series('b', 2, 1)],
        workers: [{ name: 'w1', free: 2 }],
        boundByProject: new Map([['a', 1]]),
        boundTotal: 1,
        lastServed: new Map([
          ['a', 5],
          ['b', 1],
        ]),
      }),
    );
    // b first (fewer bound); then both have one bound, and b has just been served.
    expect(keys(bindings)).toEqual(['b1', 'a1']);
  });

  it('carries the round robin on from the counter the caller keeps across passes', () => {
    const candidates = [...series('a', 2, 0), ...series('b', 2, 5)];
    const lastServed = new Map<string, number>();
    let serial = 0;
    const order: string[] = [];
    // One slot per pass; bound items finish between passes, so only lastServed tells the projects apart.
    let remaining = candidates;
    for (let pass = 0; pass < 4; pass++) {
      const bindings = plan(input({ candidates: remaining, workers: [{ name: 'w1', free: 1 }], lastServed }));
      for (const b of bindings) lastServed.set(b.project, ++serial);
      order.push(...keys(bindings));
      remaining = remaining.filter((c) => !keys(bindings).includes(c.key));
    }
    expect(order).toEqual(['a1', 'b1', 'a2', 'b2']);
  });
});

describe('plan: workers', () => {
  it('spreads items over the worker with the most free slots, ties by name', () => {
    const bindings = plan(
      input({
        candidates: Array.from({ length: 5 }, (_, i) => cand(`a${i}`, 'a', i)),
        workers: [
          { name: 'w-b', free: 2 },
          { name: 'w-a', free: 2 },
          { name: 'w-c', free: 3 },
        ],
      }),
    );
    expect(bindings.map((b) => b.worker)).toEqual(['w-c', 'w-a', 'w-b', 'w-c', 'w-a']);
  });
});

describe('plan: limits', () => {
  it('keeps the total bound under maxRunning, counting what is bound already', () => {
    const candidates = Array.from({ length: 5 }, (_, i) => cand(`a${i}`, `p${i}`, i));
    const limited = (boundTotal: number) =>
      plan(input({ candidates, boundTotal, limits: { maxRunning: 3, maxRunningPerProject: 0 } }));
    expect(limited(0)).toHaveLength(3);
    expect(limited(2)).toHaveLength(1);
    expect(limited(3)).toEqual([]);
    expect(limited(7)).toEqual([]);
  });

  it('treats maxRunning 0 as no limit', () => {
    const candidates = Array.from({ length: 6 }, (_, i) => cand(`a${i}`, 'a', i));
    expect(plan(input({ candidates, boundTotal: 100 }))).toHaveLength(6);
  });

  it('keeps each project under maxRunningPerProject, counting what is bound already', () => {
    const candidates = [...series('a', 3, 0), ...series('b', 3, 3)];
    const bindings = plan(
      input({
        candidates,
        boundByProject: new Map([['b', 1]]),
        boundTotal: 1,
        limits: { maxRunning: 0, maxRunningPerProject: 2 },
      }),
    );
    expect(keys(bindings).sort()).toEqual(['a1', 'a2', 'b1']);
  });

  it('applies both limits together', () => {
    const candidates = [...series('a', 3, 0), ...series('b', 1, 3)];
    const bindings = plan(input({ candidates, limits: { maxRunning: 3, maxRunningPerProject: 1 } }));
    expect(keys(bindings)).toEqual(['a1', 'b1']);
  });
});

describe('plan: invariants over generated inputs', () => {
  // A small deterministic generator: every run checks the same inputs.
  function lcg(seed: number) {
    let state = seed >>> 0;
    return (n: number) => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % n;
    };
  }

  it('never overfills a worker or a limit, binds each key once, and honours priority and age', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = lcg(seed);
      const projects = ['p0', 'p1', 'p2', 'p3'].slice(0, 1 + rnd(4));
      const candidates = Array.from({ length: rnd(15) }, (_, i) =>
        cand(`k${i}`, projects[rnd(projects.length)] as string, rnd(20), rnd(3) - 1),
      );
      const workers = Array.from({ length: rnd(4) }, (_, i) => ({ name: `w${i}`, free: rnd(5) - 1 }));
      const boundByProject = new Map(projects.map((p) => [p, rnd(3)]));
      const boundTotal = [...boundByProject.values()].reduce((a, b) => a + b, 0);
      const limits = { maxRunning: rnd(2) ? 0 : boundTotal + rnd(6), maxRunningPerProject: rnd(4) };
      const lastServed = new Map(projects.map((p) => [p, rnd(10)]));
      const bindings = plan({ candidates, workers, boundByProject, boundTotal, limits, lastServed });

      const ctx = `seed ${seed}`;
      expect(new Set(keys(bindings)).size, ctx).toBe(bindings.length);
      for (const w of workers) {
        const used = bindings.filter((b) => b.worker === w.name).length;
        expect(used, ctx).toBeLessThanOrEqual(Math.max(0, w.free));
      }
      if (limits.maxRunning > 0)
        expect(bindings.length, ctx).toBeLessThanOrEqual(Math.max(0, limits.maxRunning - boundTotal));
      const boundAfter = new Map(boundByProject);
      for (const b of bindings) boundAfter.set(b.project, (boundAfter.get(b.project) ?? 0) + 1);
      if (limits.maxRunningPerProject > 0)
        for (const p of projects) {
          const added = bindings.filter((b) => b.project === p).length;
          if (added > 0) expect(boundAfter.get(p), ctx).toBeLessThanOrEqual(limits.maxRunningPerProject);
        }

      const byKey = new Map(candidates.map((c) => [c.key, c]));
      for (const b of bindings) expect(byKey.get(b.key)?.project, ctx).toBe(b.project);
      const boundSet = new Set(keys(bindings));
      const left = candidates.filter((c) => !boundSet.has(c.key));
      const startable = (c: Candidate) =>
        limits.maxRunningPerProject === 0 || (boundAfter.get(c.project) ?? 0) < limits.maxRunningPerProject;
      for (const b of bindings) {
        const item = byKey.get(b.key) as Candidate;
        // Nothing of a higher priority was left behind that could still have started.
        expect(
          left.filter((c) => c.priority > item.priority && startable(c)),
          ctx,
        ).toEqual([]);
        // Within its project and priority, nothing older was left behind.
        expect(
          left.filter((c) => c.project === item.project && c.priority === item.priority && c.age < item.age),
          ctx,
        ).toEqual([]);
      }
      // Work is left only when a slot, the global limit or the project limit stops it.
      const freeSlots = workers.reduce((sum, w) => sum + Math.max(0, w.free), 0);
      const globalRoom = limits.maxRunning === 0 ? Number.POSITIVE_INFINITY : limits.maxRunning - boundTotal;
      if (bindings.length < Math.min(freeSlots, globalRoom)) expect(left.filter(startable), ctx).toEqual([]);
    }
  });
});
