import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../operator/src/config.ts';
import {
  deadline,
  desiredDedicatedPod,
  desiredPreviewIngress,
  type LiveSession,
  previewHost,
  previewURL,
} from '../../operator/src/controllers/session/desired.ts';
import type { KubeObject } from '../../operator/src/runtime/client.ts';

const session = (spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}, name = 'fix') =>
  ({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Session',
    metadata: { name, namespace: 'team', uid: 'uid-s', creationTimestamp: '2026-11-24T10:00:00Z' },
    spec: { projectRef: { name: 'shop' }, dedicated: false, ttl: '2h', idleTimeout: '30m', ...spec },
    status,
  }) as unknown as LiveSession;

describe('a Session', () => {
  it('ends at the earlier of its TTL and idleTimeout after the last activity', () => {
    expect(deadline(session())).toEqual({ at: new Date('2026-11-24T10:30:00Z'), why: 'idle' });
    expect(deadline(session({}, { lastActivityAt: '2026-11-24T11:45:00Z' }))).toEqual({
      at: new Date('2026-11-24T12:00:00Z'),
      why: 'ttl',
    });
    expect(deadline(session({}, { lastActivityAt: '2026-11-24T11:00:00Z' })).at).toEqual(
      new Date('2026-11-24T11:30:00Z'),
    );
  });

  it('previews on one DNS label under the preview domain, https with a TLS Secret', () => {
    expect(previewHost(session(), 'preview.example.dev')).toBe('fix-shop.preview.example.dev');
    const long = session({}, {}, 'x'.repeat(60));
    expect(previewHost(long, 'p.dev').split('.')[0]?.length).toBeLessThanOrEqual(63);
    expect(previewURL(session(), { domain: 'p.dev', tlsSecret: 'wildcard', dnsRecords: false })).toBe(
      'https://fix-shop.p.dev',
    );
    expect(previewURL(session(), { dnsRecords: false })).toBeUndefined();
    const ingress = desiredPreviewIngress(
      session(),
      loadConfig(['--preview-domain=p.dev', '--preview-tls-secret=wc'], {}).preview,
    );
    expect(ingress?.spec).toMatchObject({ tls: [{ hosts: ['fix-shop.p.dev'], secretName: 'wc' }] });
    expect(desiredPreviewIngress(session(), { dnsRecords: false })).toBeUndefined();
  });

  it('copies the workspace Pod for a dedicated Session, with its own labels and scratch volume', () => {
    const workspace = {
      metadata: { name: 'shop-workspace', labels: { 'rdev.dev/project': 'shop' } },
      spec: {
        nodeName: 'node-1',
        containers: [{ name: 'workspace', image: 'agent:1' }],
        volumes: [
          { name: 'workspace', persistentVolumeClaim: { claimName: 'shop-workspace' } },
          { name: 'tmp', emptyDir: {} },
        ],
      },
    } as unknown as KubeObject;
    const pod = desiredDedicatedPod(session({ dedicated: true }), workspace) as KubeObject & {
      spec: Record<string, unknown>;
    };
    expect(pod.metadata.name).toBe('fix-session');
    expect(pod.metadata.labels).toMatchObject({ 'rdev.dev/session': 'fix' });
    expect(pod.metadata.labels).not.toHaveProperty('rdev.dev/project');
    expect(pod.spec.nodeName).toBeUndefined();
    expect(pod.spec.volumes).toEqual([
      { name: 'workspace', emptyDir: {} },
      { name: 'tmp', emptyDir: {} },
    ]);
    expect(pod.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Session',
      name: 'fix',
      uid: 'uid-s',
      controller: true,
    });
    expect((workspace as unknown as { spec: { nodeName?: string } }).spec.nodeName).toBe('node-1'); // not modified
  });
});
