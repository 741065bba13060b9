import { describe, expect, it } from 'vitest';
import { type WorkItemStatus, workItemSpec } from '../../operator/src/api/v1alpha1/index.ts';
import { canonicalOf, idempotencyGroup } from '../../operator/src/queue/idempotency.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';

interface Twin {
  name: string;
  /** Minutes after a fixed start. */
  created?: number;
  status?: WorkItemStatus;
  deleting?: boolean;
  key?: string;
  project?: string;
  namespace?: string;
}

function twin(t: Twin): LiveWorkItem {
  return {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'WorkItem',
    metadata: {
      name: t.name,
      namespace: t.namespace ?? 'team',
      uid: `uid-${t.name}`,
      creationTimestamp: new Date(Date.UTC(2026, 4, 1, 8, t.created ?? 0)).toISOString(),
      ...(t.deleting ? { deletionTimestamp: '2026-05-01T09:00:00Z' } : {}),
    },
    spec: workItemSpec.parse({
      projectRef: { name: t.project ?? 'shop' },
      type: 'shell',
      command: ['make', 'release'],
      ...(t.key === '' ? {} : { idempotencyKey: t.key ?? 'release-1.2' }),
    }),
    ...(t.status ? { status: t.status } : {}),
  };
}

const nameOf = (group: LiveWorkItem[]) => canonicalOf(group)?.metadata.name;

describe('idempotencyGroup', () => {
  it('groups by namespace, project and key', () => {
    expect(idempotencyGroup(twin({ name: 'a' }))).toBe('team/shop/release-1.2');
    const groups = new Set(
      [
        twin({ name: 'a' }),
        twin({ name: 'b' }),
        twin({ name: 'c', project: 'blog' }),
        twin({ name: 'd', namespace: 'other' }),
        twin({ name: 'e', key: 'release-1.3' }),
      ].map(idempotencyGroup),
    );
    expect(groups.size).toBe(4);
  });

  it('leaves items without a key out of any group', () => {
    expect(idempotencyGroup(twin({ name: 'a', key: '' }))).toBeUndefined();
  });
});

describe('canonicalOf', () => {
  it('is undefined for an empty group', () => {
    expect(canonicalOf([])).toBeUndefined();
  });

  it('picks the oldest item while none has started, whatever the order given', () => {
    const group = [
      twin({ name: 'c', created: 3 }),
      twin({ name: 'a', created: 1 }),
      twin({ name: 'b', created: 2 }),
    ];
    expect(nameOf(group)).toBe('a');
    expect(nameOf([...group].reverse())).toBe('a');
  });

  it('breaks a tie in creation time by name', () => {
    expect(nameOf([twin({ name: 'y', created: 1 }), twin({ name: 'x', created: 1 })])).toBe('x');
  });

  it('prefers an item that started over an older one seen late', () => {
    const group = [
      twin({ name: 'older', created: 1, status: { phase: 'Queued', attempts: 0 } }),
      twin({ name: 'bound', created: 5, status: { phase: 'Scheduled', attempts: 1, worker: 'w1' } }),
    ];
    expect(nameOf(group)).toBe('bound');
  });

  it('keeps an item that has finished after starting: the others mirror its outcome', () => {
    const group = [
      twin({ name: 'done', created: 4, status: { phase: 'Succeeded', attempts: 1 } }),
      twin({ name: 'new', created: 1 }),
    ];
    expect(nameOf(group)).toBe('done');
  });

  it('takes the oldest of several that started', () => {
    const group = [
      twin({ name: 'second', created: 2, status: { phase: 'Running', attempts: 1 } }),
      twin({ name: 'first', created: 1, status: { phase: 'Failed', attempts: 3 } }),
    ];
    expect(nameOf(group)).toBe('first');
  });

  it('passes over items being deleted', () => {
    const group = [
      twin({ name: 'gone', created: 1, deleting: true, status: { phase: 'Running', attempts: 1 } }),
      twin({ name: 'next', created: 2 }),
    ];
    expect(nameOf(group)).toBe('next');
  });

  it('passes over items marked as duplicates', () => {
    const group = [
      twin({ name: 'dup', created: 1, status: { phase: 'Running', attempts: 1, duplicateOf: 'gone' } }),
      twin({ name: 'other', created: 2 }),
    ];
    expect(nameOf(group)).toBe('other');
  });

  it('passes over items that finished without starting (cancelled while queued)', () => {
    const group = [
      twin({ name: 'cancelled', created: 1, status: { phase: 'Cancelled', attempts: 0 } }),
      twin({ name: 'never-ran', created: 2, status: { phase: 'Failed' } }),
      twin({ name: 'waiting', created: 3, status: { phase: 'Queued', attempts: 0 } }),
    ];
    expect(nameOf(group)).toBe('waiting');
  });

  it('is undefined when no item may take the key', () => {
    const group = [
      twin({ name: 'a', deleting: true }),
      twin({ name: 'b', status: { phase: 'Cancelled', attempts: 0 } }),
      twin({ name: 'c', status: { phase: 'Queued', duplicateOf: 'a' } }),
    ];
    expect(canonicalOf(group)).toBeUndefined();
  });

  it('stays with the bound item when an older twin shows up after the binding', () => {
    const bound = twin({
      name: 'young',
      created: 10,
      status: { phase: 'Scheduled', attempts: 1, worker: 'w1' },
    });
    expect(nameOf([bound])).toBe('young');
    expect(nameOf([twin({ name: 'old', created: 0 }), bound])).toBe('young');
  });

  it('does not reorder the group it is given', () => {
    const group = [twin({ name: 'b', created: 2 }), twin({ name: 'a', created: 1 })];
    canonicalOf(group);
    expect(group.map((i) => i.metadata.name)).toEqual(['b', 'a']);
  });
});
