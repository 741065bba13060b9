// Which waiting WorkItems go to which workers in one scheduling pass. Pure: the scheduler feeds
// it the cache and writes the bindings it returns.
//
// Order: higher priority first (strictly, while a higher-priority item can start nothing lower
// starts); at equal priority the Projects take turns — the one with the fewest items bound goes
// next, ties to the one served longest ago (round robin); within a Project, oldest first.
// Limits: each worker's free capacity, the global limit, the per-Project limit (0: none).

export interface Candidate {
  key: string;
  project: string;
  priority: number;
  /** Sorts by age: creation time, then name. */
  age: string;
}

export interface WorkerSlots {
  name: string;
  free: number;
}

export interface Limits {
  maxRunning: number;
  maxRunningPerProject: number;
}

export interface PlanInput {
  candidates: readonly Candidate[];
  workers: readonly WorkerSlots[];
  /** Items bound now (Scheduled or Running), per Project and in total. */
  boundByProject: ReadonlyMap<string, number>;
  boundTotal: number;
  limits: Limits;
  /** When each Project was last served (a counter the caller keeps across passes). */
  lastServed: ReadonlyMap<string, number>;
}

export interface Binding {
  key: string;
  project: string;
  worker: string;
}

export function plan(input: PlanInput): Binding[] {
  const { limits } = input;
  const slots = input.workers.filter((w) => w.free > 0).map((w) => ({ ...w }));
  let free = slots.reduce((sum, w) => sum + w.free, 0);
  let total = input.boundTotal;
  const bound = new Map(input.boundByProject);
  const lastServed = new Map(input.lastServed);
  let serial = Math.max(0, ...lastServed.values());

  // Queues per priority level, each a FIFO per Project.
  const levels = new Map<number, Map<string, Candidate[]>>();
  for (const c of [...input.candidates].sort((a, b) => (a.age < b.age ? -1 : a.age > b.age ? 1 : 0))) {
    const level = levels.get(c.priority) ?? new Map<string, Candidate[]>();
    levels.set(c.priority, level);
    const fifo = level.get(c.project);
    if (fifo) fifo.push(c);
    else level.set(c.project, [c]);
  }
  const priorities = [...levels.keys()].sort((a, b) => b - a);

  const projectFull = (project: string) =>
    limits.maxRunningPerProject > 0 && (bound.get(project) ?? 0) >= limits.maxRunningPerProject;

  const bindings: Binding[] = [];
  while (free > 0 && (limits.maxRunning === 0 || total < limits.maxRunning)) {
    let choice: { fifo: Candidate[]; head: Candidate; project: string } | undefined;
    for (const level of priorities.flatMap((p) => levels.get(p) ?? [])) {
      for (const [project, fifo] of level) {
        const head = fifo[0];
        if (!head || projectFull(project)) continue;
        if (!choice || before(project, head, choice.project, choice.head)) choice = { fifo, head, project };
      }
      if (choice) break;
    }
    // Spread: the worker with the most free slots (ties by name, for determinism).
    slots.sort((a, b) => b.free - a.free || (a.name < b.name ? -1 : 1));
    const worker = slots[0];
    if (!choice || !worker) break;
    const item = choice.head;
    choice.fifo.shift();
    worker.free -= 1;
    free -= 1;
    total += 1;
    bound.set(choice.project, (bound.get(choice.project) ?? 0) + 1);
    lastServed.set(choice.project, ++serial);
    bindings.push({ key: item.key, project: choice.project, worker: worker.name });
  }
  return bindings;

  /** Whether Project p (its oldest waiting item `a`) goes before q (its oldest, `b`). */
  function before(p: string, a: Candidate, q: string, b: Candidate): boolean {
    const [bp, bq] = [bound.get(p) ?? 0, bound.get(q) ?? 0];
    if (bp !== bq) return bp < bq;
    const [sp, sq] = [lastServed.get(p) ?? 0, lastServed.get(q) ?? 0];
    if (sp !== sq) return sp < sq;
    return a.age < b.age;
  }
}
