// The local plane's kwok-env resolves a container's env as a kubelet would (hack/kwok-env.ts).
import { describe, expect, it } from 'vitest';
import { type Lookup, resolveEnv } from '../../hack/kwok-env.ts';
import type { Pod } from '../../operator/src/runtime/resources.ts';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u-1', labels: { app: 'shop' } },
  spec: { nodeName: 'rdev-node', containers: [] },
};

const sources: Record<string, Record<string, string>> = {
  'Secret/git': { RDEV_GIT_TOKEN: 't0k', SHARED: 'from-secret' },
  'ConfigMap/settings': { SHARED: 'from-config', MODE: 'dev', 'A=B': 'skipped' },
};
const lookup: Lookup = (kind, name) => sources[`${kind}/${name}`];

type Container = Parameters<typeof resolveEnv>[1];
const resolve = (c: Omit<Container, 'name'>) => {
  const { env, missing } = resolveEnv(pod, { name: 'main', ...c }, lookup);
  return { env: Object.fromEntries(env), missing };
};

describe('resolveEnv', () => {
  it('takes literal values and keys of Secrets and ConfigMaps', () => {
    expect(
      resolve({
        env: [
          { name: 'X', value: 'literal' },
          { name: 'EMPTY' },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'git', key: 'RDEV_GIT_TOKEN' } } },
          { name: 'M', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
        ],
      }),
    ).toEqual({ env: { X: 'literal', EMPTY: '', TOKEN: 't0k', M: 'dev' }, missing: [] });
  });

  it('applies envFrom in order with its prefix, then env over it', () => {
    expect(
      resolve({
        envFrom: [{ secretRef: { name: 'git' } }, { configMapRef: { name: 'settings' }, prefix: 'CM_' }],
        env: [{ name: 'SHARED', value: 'from-env' }],
      }).env,
    ).toEqual({ RDEV_GIT_TOKEN: 't0k', SHARED: 'from-env', CM_SHARED: 'from-config', CM_MODE: 'dev' });
    expect(
      resolve({ envFrom: [{ secretRef: { name: 'git' } }, { configMapRef: { name: 'settings' } }] }).env
        .SHARED,
    ).toBe('from-config');
  });

  it('names what is missing unless optional', () => {
    expect(
      resolve({
        envFrom: [{ secretRef: { name: 'absent' } }, { configMapRef: { name: 'gone', optional: true } }],
        env: [
          { name: 'A', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 'git', key: 'OTHER' } } },
          { name: 'C', valueFrom: { configMapKeyRef: { name: 'settings', key: 'OTHER', optional: true } } },
          { name: 'D', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } },
        ],
      }),
    ).toEqual({ env: {}, missing: ['Secret absent', 'Secret nope', 'key OTHER of Secret git'] });
  });

  it("takes the Pod's own fields from the downward API", () => {
    expect(
      resolve({
        env: [
          { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        ],
      }).env,
    ).toEqual({ NAME: 'p', NODE: 'rdev-node', APP: 'shop' });
  });
});
