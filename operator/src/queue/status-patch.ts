// The one way WorkItem status is written, by the operator and the workers alike: a merge patch
// of the status subresource with the resourceVersion the writer based it on. Two writers can
// never both win a race (the loser gets 409 and re-reads): that is what keeps an item from being
// bound twice or reported by a worker that no longer holds it.
import { WORK_ITEMS } from '../api/resources.ts';
import { parseWorkItem } from '../api/v1alpha1/index.ts';
import type { KubeClient } from '../runtime/client.ts';
import type { LiveWorkItem } from '../shared/work-phases.ts';
import type { StatusPatch } from './lifecycle.ts';

/** Writes `patch`; resolves with the item as the API server now has it (parsed, as caches hold it). */
export async function patchStatus(
  client: KubeClient,
  item: LiveWorkItem,
  patch: StatusPatch,
  fieldManager: string,
): Promise<LiveWorkItem> {
  const written = await client.patch(
    WORK_ITEMS,
    item.metadata.namespace,
    item.metadata.name,
    { metadata: { resourceVersion: item.metadata.resourceVersion }, status: patch },
    'merge',
    { fieldManager },
    'status',
  );
  return parseWorkItem(written);
}
