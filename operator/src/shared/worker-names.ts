// Names shared by the scheduler (operator) and the workers: the field a worker selects its
// WorkItems by, and the heartbeat Lease each worker holds.
import { boundedName } from './naming.ts';

/** The field selector of the WorkItems bound to `worker` (a selectable field of the CRD). */
export const boundTo = (worker: string) => `status.worker=${worker}`;

/** On a worker's Lease: marks it as a worker heartbeat (the operator watches only these). */
export const WORKER_LEASE_LABEL = 'rdev.dev/worker-lease';
export const WORKER_LEASE_SELECTOR = `${WORKER_LEASE_LABEL}=true`;

/** On a worker's Lease: how many WorkItems it runs at once (0 while it drains). */
export const CAPACITY_ANNOTATION = 'rdev.dev/capacity';

/** Field manager of the workers' writes. */
export const WORKER_FIELD_MANAGER = 'rdev-worker';

/** Name of a worker's Lease: fits a DNS subdomain whatever the worker's name. */
export const workerLeaseName = (worker: string) => boundedName('rdev-worker', worker, 253);

/** A worker name must be usable as a label value. */
export const WORKER_NAME_PATTERN = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
