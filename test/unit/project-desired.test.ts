import { describe, expect, it } from 'vitest';
import { AGENT_PROVIDERS } from '../../operator/src/agents.ts';
import type { LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { AGENT_PROVIDER_NAMES, parseProject, parseSession } from '../../operator/src/api/v1alpha1/index.ts';
import { loadConfig } from '../../operator/src/config.ts';
import {
  checkCredentials,
  desiredChildren,
  desiredNetworkPolicy,
  desiredPod,
  workspaceRefusal,
} from '../../operator/src/controllers/project/desired.ts';
import { SPEC_HASH } from '../../operator/src/controllers/project/names.ts';
import { type PodView, projectStatus } from '../../operator/src/controllers/project/status.ts';
import { runnerLabels } from '../../operator/src/controllers/runner/desired.ts';
import { desiredDedicatedPod, workspaceTemplate } from '../../operator/src/controllers/session/desired.ts';
import { externalDnsProvider } from '../../operator/src/providers/dns/external-dns.ts';
import { boundedName } from '../../operator/src/shared/naming.ts';

const config = loadConfig([], {});

function live(spec: Record<string, unknown> = {}, name = 'shop', status?: object): LiveProject {
  return parseProject({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name, namespace: 'team', uid: 'uid-1', generation: 2 },
    spec: { agent: { credentialsSecretRef: { name: 'anthropic' } }, ...spec },
    ...(status ? { status } : {}),
  });
}

const podSpec = (pod: ReturnType<typeof desiredPod>) => {
  if (!pod?.spec) throw new Error('no Pod');
  return pod.spec;
};
const ok = checkCredentials(live(), ['ANTHROPIC_API_KEY', 'UNRELATED']);

describe('agent provider registry', () => {
  it('has one entry per provider the API accepts', () => {
    expect(Object.keys(AGENT_PROVIDERS).sort()).toEqual([...AGENT_PROVIDER_NAMES].sort());
  });
});

describe('credentials', () => {
  it('are checked by key name against what the provider needs', () => {
    expect(checkCredentials(live({ agent: {} }), undefined)).toEqual({ state: 'none' });
    expect(checkCredentials(live(), undefined)).toEqual({ state: 'missing', secret: 'anthropic' });
    expect(checkCredentials(live(), ['OTHER'])).toMatchObject({
      state: 'incomplete',
      needOneOf: ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN'],
    });
    expect(ok).toEqual({ state: 'ok', secret: 'anthropic', keys: ['ANTHROPIC_API_KEY'] });
  });
});

describe('desired children', () => {
  it('are all controlled by the Project and carry the hash of their content', () => {
    const children = [...desiredChildren(live(), config), desiredPod(live(), config, ok)];
    expect(children.map((c) => c?.kind)).toEqual([
      'ServiceAccount',
      'PersistentVolumeClaim',
      'Service',
      'NetworkPolicy',
      'Pod',
    ]);
    for (const child of children) {
      expect(child?.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'rdev.dev/v1alpha1',
          kind: 'Project',
          name: 'shop',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(child?.metadata?.annotations?.[SPEC_HASH]).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('give the Pod restricted security, the agent image, and credentials by reference only', () => {
    const spec = podSpec(
      desiredPod(live({ agent: { credentialsSecretRef: { name: 'anthropic' }, model: 'opus' } }), config, ok),
    );
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const container = spec.containers[0];
    expect(container?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container?.image).toBe(config.images.claudeCode);
    expect(container?.env).toContainEqual({
      name: 'ANTHROPIC_API_KEY',
      valueFrom: { secretKeyRef: { name: 'anthropic', key: 'ANTHROPIC_API_KEY' } },
    });
    expect(container?.env).toContainEqual({ name: 'ANTHROPIC_MODEL', value: 'opus' });
    expect(container?.env?.map((e) => e.name)).not.toContain('UNRELATED');
  });

  it('put the user env last and change the Pod hash when the spec changes', () => {
    const before = desiredPod(live(), config, ok);
    const after = desiredPod(
      live({ workspace: { env: [{ name: 'RDEV_PROJECT', value: 'override' }] } }),
      config,
      ok,
    );
    expect(podSpec(after).containers[0]?.env?.at(-1)).toEqual({ name: 'RDEV_PROJECT', value: 'override' });
    expect(after?.metadata?.annotations?.[SPEC_HASH]).not.toBe(before?.metadata?.annotations?.[SPEC_HASH]);
    expect(desiredPod(live(), config, ok)?.metadata?.annotations?.[SPEC_HASH]).toBe(
      before?.metadata?.annotations?.[SPEC_HASH],
    );
  });

  it('have no Pod when suspended or when credentials are unusable', () => {
    expect(desiredPod(live({ suspend: true }), config, ok)).toBeUndefined();
    expect(desiredPod(live(), config, { state: 'missing', secret: 'anthropic' })).toBeUndefined();
    expect(desiredPod(live({ agent: {} }), config, { state: 'none' })).toBeDefined();
  });

  it("let the NetworkPolicy in from the shim's Pods and the Project, out to DNS and the configured CIDRs", () => {
    const policy = desiredNetworkPolicy(
      live(),
      loadConfig(['--egress-cidr=10.1.0.0/16', '--shim-namespace=rdev'], {}),
    );
    // The shim's Pods only, not every Pod of its namespace: namespace and Pod selector in one peer.
    expect(policy.spec?.ingress?.[0]?.from).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'rdev' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/component': 'shim' } },
      },
      { podSelector: { matchLabels: { 'rdev.dev/project': 'shop' } } },
    ]);
    const chart = desiredNetworkPolicy(
      live(),
      loadConfig(
        [
          '--shim-pod-labels=app.kubernetes.io/instance=rdev,app.kubernetes.io/component=shim',
          '--preview-ingress-namespace=ingress-nginx',
        ],
        {},
      ),
    );
    expect(chart.spec?.ingress?.[0]?.from).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'rdev-system' } },
        podSelector: {
          matchLabels: { 'app.kubernetes.io/instance': 'rdev', 'app.kubernetes.io/component': 'shim' },
        },
      },
      { podSelector: { matchLabels: { 'rdev.dev/project': 'shop' } } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
    ]);
    expect(() => loadConfig(['--shim-pod-labels=shim'], {})).toThrow(/key=value/);
    expect(policy.spec?.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
      { to: [{ ipBlock: { cidr: '10.1.0.0/16' } }] },
    ]);
    const dnsOnly = desiredNetworkPolicy(live(), loadConfig(['--egress-cidr='], {}));
    expect(dnsOnly.spec?.egress).toHaveLength(1);
  });

  it("put every Pod that runs the Project's code under its NetworkPolicy: workspace, runners, dedicated Sessions", () => {
    const selector = desiredNetworkPolicy(live(), config).spec?.podSelector?.matchLabels ?? {};
    const template = desiredPod(live(), config, ok);
    if (!template) throw new Error('no workspace Pod');
    const session = parseSession({
      apiVersion: 'rdev.dev/v1alpha1',
      kind: 'Session',
      metadata: { name: 'fix', namespace: 'team', uid: 'uid-s', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { projectRef: { name: 'shop' }, dedicated: true },
    });
    const pods = [
      template,
      desiredDedicatedPod(session, template),
      { metadata: { labels: runnerLabels('shop') } },
    ];
    for (const pod of pods) expect(pod.metadata?.labels).toMatchObject(selector);
    expect(Object.keys(selector)).toContain('rdev.dev/project');
    // …and no other Project's.
    expect(desiredNetworkPolicy(live({}, 'blog'), config).spec?.podSelector?.matchLabels).not.toEqual(
      selector,
    );
  });

  it('have bounded, stable names for long Project names', () => {
    const long = 'a'.repeat(63);
    const name = boundedName(long, 'workspace');
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toBe(boundedName(long, 'workspace'));
    expect(name).not.toBe(boundedName(`${'a'.repeat(62)}b`, 'workspace'));
    const names = desiredChildren(live({}, long), config).map((c) => c.metadata?.name ?? '');
    expect(names.every((n) => n.length > 0 && n.length <= 63)).toBe(true);
  });

  it('annotate the Service for external-dns only in that mode, with every vetted host name', () => {
    const annotations = (project: LiveProject, args: string[]) =>
      desiredChildren(project, loadConfig(args, {})).find((c) => c.kind === 'Service')?.metadata
        ?.annotations ?? {};
    const externalDns = [
      '--dns-mode=external-dns',
      '--domain=example.dev',
      '--dns-target=CNAME:ingress.example.dev',
    ];
    // What the DNS sub-reconciler vetted and recorded (under the domain, nobody else's).
    const vetted = { dns: { hostnames: ['store.example.dev', 'www.shop.example.dev'], records: [] } };
    const dns = { enabled: true, subdomain: 'store', aliases: ['www.shop.example.dev'] };
    const named = live({ dns }, 'shop', vetted);
    expect(annotations(named, externalDns)).toMatchObject({
      'external-dns.alpha.kubernetes.io/hostname': 'store.example.dev,www.shop.example.dev',
      'external-dns.alpha.kubernetes.io/target': 'ingress.example.dev',
    });
    // Refused (nothing recorded): nothing is published.
    expect(annotations(live({ dns }), externalDns)).not.toHaveProperty(
      'external-dns.alpha.kubernetes.io/hostname',
    );
    // Without a subdomain the label is unique by construction: external-dns cannot be asked first.
    const auto = externalDnsProvider('example.dev').ids(live({ dns: { enabled: true } })).hostnames;
    expect(auto).toEqual([expect.stringMatching(/^shop-[0-9a-z]+\.example\.dev$/)]);
    expect(
      annotations(live({ dns: { enabled: true } }, 'shop', vetted), [
        '--dns-mode=external-dns',
        '--domain=example.dev',
      ]),
    ).not.toHaveProperty('external-dns.alpha.kubernetes.io/target');
    expect(annotations(named, ['--dns-mode=cloudflare', '--domain=example.dev'])).not.toHaveProperty(
      'external-dns.alpha.kubernetes.io/hostname',
    );
    expect(annotations(live(), externalDns)).not.toHaveProperty('external-dns.alpha.kubernetes.io/hostname');
  });
});

describe('project status', () => {
  const now = new Date('2026-11-24T00:00:00Z');
  const runningPod: PodView = {
    metadata: { name: 'shop-workspace' },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };

  it('is Ready when the Pod is running and ready, with one Event for the story: Ready', () => {
    const creating = projectStatus(live(), { pod: undefined, credentials: ok }, now);
    expect(creating.status.phase).toBe('Provisioning');
    expect(creating.transitions).toEqual([]); // an expected step: in the status only
    const { status, transitions } = projectStatus(live(), { pod: runningPod, credentials: ok }, now);
    expect(status).toMatchObject({
      phase: 'Ready',
      observedGeneration: 2,
      workspace: { podName: 'shop-workspace', serviceName: 'shop-workspace' },
    });
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['WorkspaceReady', 'True', 'PodReady'],
      ['Ready', 'True', 'Ready'],
    ]);
    expect(transitions.map((t) => `${t.type} ${t.reason}`)).toEqual(['Normal Ready']);
    // A component turning ready later, on its own, is told by its own Event.
    const later = projectStatus(
      {
        ...live(),
        status: {
          ...status,
          conditions: status.conditions?.map((c) =>
            c.type === 'WorkspaceReady' ? { ...c, status: 'False', reason: 'PodFailed' } : c,
          ),
        },
      },
      { pod: runningPod, credentials: ok },
      now,
    );
    expect(later.transitions.map((t) => `${t.type} ${t.reason}`)).toEqual(['Normal WorkspaceReady']);
  });

  it('emits nothing and keeps transition times when nothing changed', () => {
    const first = projectStatus(live(), { pod: runningPod, credentials: ok }, now).status;
    const again = projectStatus(
      { ...live(), status: first },
      { pod: runningPod, credentials: ok },
      new Date(now.getTime() + 60_000),
    );
    expect(again.transitions).toEqual([]);
    expect(again.status).toEqual(first);
  });

  it('is Failed, with a Warning naming the Secret, when credentials are missing', () => {
    const { status, transitions } = projectStatus(
      live(),
      { pod: undefined, credentials: { state: 'missing', secret: 'anthropic' } },
      now,
    );
    expect(status.phase).toBe('Failed');
    expect(transitions[0]).toMatchObject({ type: 'Warning', reason: 'CredentialsSecretNotFound' });
    expect(transitions[0]?.note).toContain('Secret "anthropic"');
  });

  it('is Failed, with ImageNotAllowed and no Pod (nor runner or Session template), for a disallowed image', () => {
    const strict = loadConfig(['--allowed-images', 'ghcr.io/rdev-dev/*,registry.local:5000/team/*'], {});
    const own = live({ workspace: { image: 'registry.local:5000/team/ws:1' } });
    expect(desiredPod(own, strict, ok)?.spec?.containers[0]?.image).toBe('registry.local:5000/team/ws:1');
    // The provider's default image is checked too.
    expect(desiredPod(live(), strict, ok)).toBeDefined();
    expect(
      desiredPod(live(), loadConfig(['--allowed-images', 'registry.local:5000/*'], {}), ok),
    ).toBeUndefined();

    const foreign = live({ workspace: { image: 'docker.io/evil/miner:1' } });
    expect(desiredPod(foreign, strict, ok)).toBeUndefined();
    expect(workspaceTemplate(foreign, strict, ['ANTHROPIC_API_KEY'])).toBeUndefined();
    const { status, transitions } = projectStatus(
      foreign,
      { pod: undefined, credentials: ok, refused: workspaceRefusal(foreign, strict) },
      now,
    );
    expect(status.phase).toBe('Failed');
    expect(status.conditions?.find((c) => c.type === 'WorkspaceReady')).toMatchObject({
      status: 'False',
      reason: 'ImageNotAllowed',
    });
    expect(transitions[0]).toMatchObject({ type: 'Warning', reason: 'ImageNotAllowed' });
    expect(transitions[0]?.note).toContain('"docker.io/evil/miner:1"');
  });

  it('is Suspended when suspended, Provisioning while the Pod starts, and reports apply failures', () => {
    expect(
      projectStatus(live({ suspend: true }), { pod: undefined, credentials: ok }, now).status.phase,
    ).toBe('Suspended');
    const pending: PodView = { metadata: { name: 'shop-workspace' }, status: { phase: 'Pending' } };
    expect(projectStatus(live(), { pod: pending, credentials: ok }, now).status.phase).toBe('Provisioning');
    const failed = projectStatus(live(), { pod: undefined, credentials: ok, failure: 'range is full' }, now);
    expect(failed.status.conditions?.[0]).toMatchObject({
      reason: 'ApplyFailed',
      message: 'could not apply the workspace: range is full',
    });
  });
});

describe('operator configuration', () => {
  it('takes flags over environment over file defaults, and names the option at fault', () => {
    expect(loadConfig(['--workers=8'], { RDEV_WORKERS: '2' }).workers).toBe(8);
    expect(loadConfig([], { RDEV_WORKERS: '2', RDEV_NAMESPACES: 'a, b' })).toMatchObject({
      workers: 2,
      namespaces: ['a', 'b'],
    });
    expect(loadConfig([], {}).workers).toBe(4);
    expect(loadConfig(['--namespace=a', '--namespace=b,c'], {}).namespaces).toEqual(['a', 'b', 'c']);
    expect(() => loadConfig(['--workers=0'], {})).toThrow(/--workers/);
    expect(() => loadConfig(['--log-level=loud'], {})).toThrow(/--log-level/);
    expect(() => loadConfig(['--no-such-flag'], {})).toThrow(/no-such-flag/);
  });
});

describe('caps on CPU and memory (--max-workspace-cpu, --max-workspace-memory)', () => {
  const capped = loadConfig(['--max-workspace-cpu=2', '--max-workspace-memory=4Gi'], {});
  const resources = (project: LiveProject) =>
    podSpec(desiredPod(project, capped, ok)).containers[0]?.resources;

  it('limit a Pod that names no limit to the caps, and lower a default request above them', () => {
    expect(resources(live())).toEqual({
      requests: { cpu: '250m', memory: '512Mi' },
      limits: { cpu: '2', memory: '4Gi' },
    });
    const small = loadConfig(['--max-workspace-cpu=100m'], {});
    expect(podSpec(desiredPod(live(), small, ok)).containers[0]?.resources).toEqual({
      requests: { cpu: '100m', memory: '512Mi' },
      limits: { cpu: '100m' },
    });
    expect(resources(live({ workspace: { resources: { limits: { cpu: '1' } } } }))).toEqual({
      limits: { cpu: '1', memory: '4Gi' },
    });
  });

  it('refuse a spec above them: no Pod, QuotaExceeded naming the field', () => {
    const greedy = live({ workspace: { resources: { requests: { cpu: '64' } } } });
    expect(desiredPod(greedy, capped, ok)).toBeUndefined();
    expect(workspaceTemplate(greedy, capped, ['ANTHROPIC_API_KEY'])).toBeUndefined();
    const refused = workspaceRefusal(greedy, capped);
    expect(refused).toEqual({
      reason: 'QuotaExceeded',
      message:
        "spec.workspace.resources.requests.cpu: 64 is above the most a Project's Pod may have (--max-workspace-cpu=2)",
    });
    const { status } = projectStatus(greedy, { pod: undefined, credentials: ok, refused }, new Date());
    expect(status.phase).toBe('Failed');
    expect(status.conditions?.find((c) => c.type === 'WorkspaceReady')).toMatchObject({
      status: 'False',
      reason: 'QuotaExceeded',
    });
    expect(
      workspaceRefusal(live({ workspace: { resources: { limits: { memory: '4096Mi' } } } }), capped),
    ).toBe(undefined);
    expect(workspaceRefusal(greedy, config)).toBeUndefined();
  });

  it('are positive quantities', () => {
    expect(() => loadConfig(['--max-workspace-cpu=lots'], {})).toThrow(/max-workspace-cpu/);
    expect(() => loadConfig(['--max-workspace-memory=0'], {})).toThrow(/positive/);
  });
});
