// Figures from a manager's metrics registry, for tests and benchmarks that run the operator in
// their own process.
import type { Manager } from '../../../operator/src/runtime/manager.ts';

/** Total of a counter (or gauge) in a manager's registry, over the label sets `match` accepts. */
export async function counterTotal(
  manager: Manager,
  name: string,
  match: (labels: Partial<Record<string, string | number>>) => boolean = () => true,
): Promise<number> {
  const metric = await manager.metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).filter((v) => match(v.labels)).reduce((sum, v) => sum + v.value, 0);
}

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

/** The API writes a manager has made so far. */
export const apiWrites = (manager: Manager) =>
  counterTotal(manager, 'rest_client_requests_total', (l) => WRITE_VERBS.has(String(l.verb)));

/** The value of a gauge without labels (undefined until it is set). */
export async function gaugeValue(manager: Manager, name: string): Promise<number | undefined> {
  return (await manager.metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;
}
