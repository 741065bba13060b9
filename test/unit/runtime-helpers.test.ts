import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AlreadyOwnedError, controllerOf, setControllerReference } from '../../operator/src/runtime/apply.ts';
import { Backoff } from '../../operator/src/runtime/backoff.ts';
import type { KubeObject } from '../../operator/src/runtime/client.ts';
import { dropManagedFields } from '../../operator/src/runtime/informer.ts';
import { REDACT_PATHS } from '../../operator/src/runtime/logging.ts';

const owner = { apiVersion: 'rdev.dev/v1alpha1', kind: 'Project', metadata: { name: 'shop', uid: 'u-1' } };

describe('setControllerReference', () => {
  it('adds a controller reference that blocks owner deletion, keeping other owners', () => {
    const child = {
      metadata: {
        name: 'c',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u-x' }],
      },
    };
    const out = setControllerReference(owner, child);
    expect(out.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u-x' },
      {
        apiVersion: 'rdev.dev/v1alpha1',
        kind: 'Project',
        name: 'shop',
        uid: 'u-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(controllerOf(out)?.uid).toBe('u-1');
    expect(child.metadata.ownerReferences).toHaveLength(1); // input untouched
  });

  it('is idempotent and refuses a child controlled by someone else', () => {
    const once = setControllerReference<KubeObject>(owner, { metadata: { name: 'c' } });
    expect(setControllerReference(owner, once).metadata.ownerReferences).toHaveLength(1);
    const other = { ...owner, metadata: { name: 'other', uid: 'u-2' } };
    expect(() => setControllerReference(other, once)).toThrow(AlreadyOwnedError);
  });
});

describe('dropManagedFields', () => {
  it('removes managedFields and nothing else', () => {
    const obj = { metadata: { name: 'a', labels: { x: 'y' }, managedFields: [{}] }, spec: { a: 1 } };
    expect(dropManagedFields(obj)).toEqual({ metadata: { name: 'a', labels: { x: 'y' } }, spec: { a: 1 } });
  });
});

describe('Backoff', () => {
  it('doubles with jitter and never exceeds its cap', () => {
    const b = new Backoff(100, 1000, () => 0.5);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([150, 300, 600, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(150);
  });
});

describe('log redaction', () => {
  it('hides secrets wherever they are nested', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += chunk.toString();
        done();
      },
    });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info({
      token: 'tok-1',
      db: { password: 'pw-2', user: 'u' },
      req: { headers: { authorization: 'Bearer tok-3', 'x-api-key': 'rdev_key4' } },
      env: { deep: { DATABASE_URL: 'postgres://u:pw-5@h/db' } },
    });
    for (const secret of ['tok-1', 'pw-2', 'tok-3', 'rdev_key4', 'pw-5']) expect(out).not.toContain(secret);
    expect(out).toContain('"user":"u"');
  });
});
