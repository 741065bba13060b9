// The Helm chart (charts/rdev) against the real API server: it lints, renders with default values
// and with every optional feature on, its schema rejects bad values, and the API server accepts
// what it renders (server-side dry run, restricted Pod Security). Then its RBAC for real: the
// chart's ServiceAccounts, Roles and bindings are applied, the operator and a worker run with
// tokens of those ServiceAccounts (TokenRequest API), a Project becomes Ready and a WorkItem
// runs in a runner Pod, and the shim serves keys, reads, writes, exec and webhooks, without a
// single forbidden request; and what the chart does not grant is refused: the worker reads no
// Secret and writes no Lease but its own.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { loadShimConfig } from '../../api-shim/src/config.ts';
import { createShim } from '../../api-shim/src/shim.ts';
import { FEATURES, PROJECTS, WORK_ITEMS } from '../../operator/src/api/resources.ts';
import { loadConfig } from '../../operator/src/config.ts';
import { registerCheckoutController } from '../../operator/src/controllers/checkout/index.ts';
import { registerProjectController } from '../../operator/src/controllers/project/index.ts';
import { registerSessionController } from '../../operator/src/controllers/session/index.ts';
import { registerWorkControllers } from '../../operator/src/controllers/workitem/index.ts';
import { IMAGES, RDEV_VERSION } from '../../operator/src/images.ts';
import { ApiError, KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { createLogger } from '../../operator/src/runtime/logging.ts';
import { Manager } from '../../operator/src/runtime/manager.ts';
import { EVENTS, LEASES, PODS, SECRETS } from '../../operator/src/runtime/resources.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import { boundTo, workerLeaseName } from '../../operator/src/shared/worker-names.ts';
import { loadWorkerConfig } from '../../operator/src/worker/config.ts';
import { AGENT_SECRET, PROJECT_SPEC, ROOT } from '../support/manifests.ts';
import { installCrds } from './support/crds.ts';
import { createAgentSecret, eventually, kubeConfig, uniqueName, useNamespace } from './support/kube.ts';
import { kubectl } from './support/kubectl.ts';
import { counterTotal } from './support/metrics.ts';
import { rdevKind } from './support/rdev-objects.ts';
import { spawnWorker, type WorkerProcess } from './support/worker.ts';

const CHART = join(ROOT, 'charts', 'rdev');

type Obj = KubeObject & { kind: string; apiVersion: string; spec?: Record<string, unknown> };
interface Container {
  name: string;
  args: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  [key: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
  [key: string]: unknown;
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const kc = kubeConfig();
const admin = new KubeClient(kc);
let helmBin = '';
let work = '';

/** Runs helm; the binary comes from hack/helm.sh (built once through the module proxy, then cached). */
function helm(...args: string[]) {
  const run = spawnSync(helmBin, args, { encoding: 'utf8' });
  return { stdout: run.stdout, stderr: run.stderr, status: run.status };
}

/** `helm template` of the chart: the rendered objects. */
function render(release: string, namespace: string, ...args: string[]): Obj[] {
  const run = helm('template', release, CHART, '--namespace', namespace, ...args);
  if (run.status !== 0) throw new Error(`helm template failed: ${run.stderr}`);
  return parseAllDocuments(run.stdout)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** Writes objects as a YAML stream to a file of the work directory; its path. */
async function writeObjects(name: string, objects: Obj[]): Promise<string> {
  const file = join(work, name);
  await writeFile(file, objects.map((o) => `---\n${stringify(o)}`).join(''));
  return file;
}

const named = (objects: Obj[], kind: string) => objects.filter((o) => o.kind === kind);
const kinds = (objects: Obj[]) => [...new Set(objects.map((o) => o.kind))].sort();

/** The Deployment (operator, shim) or StatefulSet (worker) of a component. */
function workloadOf(objects: Obj[], component: string): Obj {
  const workload = objects.find(
    (o) =>
      (o.kind === 'Deployment' || o.kind === 'StatefulSet') &&
      o.metadata.labels?.['app.kubernetes.io/component'] === component,
  );
  if (!workload) throw new Error(`no ${component} workload rendered`);
  return workload;
}

function podSpecOf(objects: Obj[], component: string): PodSpec {
  const template = workloadOf(objects, component).spec?.template as { spec: PodSpec } | undefined;
  if (!template) throw new Error(`the ${component} workload has no Pod template`);
  return template.spec;
}

function containerOf(objects: Obj[], component: string): Container {
  const container = podSpecOf(objects, component).containers[0];
  if (!container) throw new Error(`no ${component} container rendered`);
  return container;
}

/** The rules of a component's ClusterRoles and Roles. */
function rulesOf(objects: Obj[], component: string): Rule[] {
  return [...named(objects, 'ClusterRole'), ...named(objects, 'Role')]
    .filter((r) => r.metadata.labels?.['app.kubernetes.io/component'] === component)
    .flatMap((r) => (r as unknown as { rules: Rule[] }).rules);
}

const leaseRules = (rules: Rule[]) => rules.filter((r) => r.resources.includes('leases'));

/** The container's environment as the kubelet would give it: downward API fields resolved. */
function envOf(container: Container, pod: { name: string; namespace: string }): NodeJS.ProcessEnv {
  return Object.fromEntries(
    (container.env ?? []).map((e) => {
      const field = e.valueFrom?.fieldRef?.fieldPath;
      return [
        e.name,
        field === 'metadata.name'
          ? pod.name
          : field === 'metadata.namespace'
            ? pod.namespace
            : field === 'status.podIP'
              ? '10.0.0.7'
              : e.value,
      ];
    }),
  );
}

/** The container's arguments with $(VAR) references expanded, as the kubelet does. */
function argsOf(container: Container, env: NodeJS.ProcessEnv): string[] {
  return container.args
    .slice(1)
    .map((a) => a.replace(/\$\((\w+)\)/g, (ref, name: string) => env[name] ?? ref));
}

/** Every value set: all providers, the Ingress, the ServiceMonitor, restricted egress. */
const ALL_FEATURES = {
  operator: {
    storageClassName: 'standard',
    workspaceEgressCIDRs: ['10.0.0.0/8'],
    maxRunning: 20,
    runnerIdleSeconds: 600,
    maxDedicatedSessionsPerProject: 3,
  },
  shim: {
    bootstrapKeySecret: 'shim-bootstrap',
    maxObjectsPerProject: 50,
    trustProxy: '10.0.0.0/8,192.168.0.1',
    ingress: {
      enabled: true,
      className: 'nginx',
      host: 'rdev.example.dev',
      tlsSecretName: 'rdev-tls',
      annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
    },
  },
  worker: {
    replicas: 3,
    capacity: 4,
    runnerWaitSeconds: 60,
    outputTokenSecret: 'rdev-output',
    commands: { build: 'make build', test: 'make test: all', deploy: 'make deploy' },
    resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '8Gi' } },
  },
  providers: {
    domain: 'example.dev',
    gitea: {
      url: 'https://git.example.dev',
      organization: 'agents',
      tokenSecret: 'gitea',
      webhooks: ['https://ci.example.dev/hook', 'https://chat.example.dev/hook'],
    },
    woodpecker: { url: 'https://ci.example.dev', tokenSecret: 'woodpecker' },
    dns: {
      mode: 'cloudflare',
      target: 'CNAME:ingress.example.dev',
      proxied: true,
      cloudflare: {
        zoneId: '0123abcd',
        tokenSecret: 'cloudflare',
        apiURL: 'https://api.cloudflare.com/client/v4',
      },
    },
    database: { postgresAdminSecret: 'postgres-admin', cockroachdbAdminSecret: 'cockroach-admin' },
    cache: { redisAdminSecret: 'redis-admin', checkSeconds: 30 },
    preview: {
      domain: 'preview.example.dev',
      ingressClassName: 'nginx',
      tlsSecret: 'preview-tls',
      dnsRecords: true,
      ingressNamespace: 'ingress-nginx',
    },
    agentImages: {
      claudeCode: { repository: 'registry.example.dev/claude', tag: '1', digest: '' },
      opencode: { repository: 'registry.example.dev/opencode', tag: '1', digest: '' },
    },
  },
  networkPolicies: {
    shimFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
    metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
    operatorEgress: { apiServerCIDRs: ['10.96.0.1/32'], apiServerPorts: [443] },
  },
  webhooks: { allowCIDRs: ['10.20.0.0/16'] },
  allowedImages: ['ghcr.io/rdev-dev/*', 'registry.example.dev/*'],
  workspaceCaps: { cpu: 8, memory: '16Gi' },
  serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
};
let allFeaturesFile = '';

// The release namespace: the chart's namespaced objects, Leases, and the dry runs. Deleted last.
const release = useNamespace('rdev-chart');

beforeAll(async () => {
  const built = spawnSync(join(ROOT, 'hack', 'helm.sh'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (built.status !== 0) throw new Error('hack/helm.sh could not build helm');
  helmBin = built.stdout.trim();
  work = await mkdtemp(join(tmpdir(), 'rdev-chart-'));
  allFeaturesFile = join(work, 'all-features.yaml');
  await writeFile(allFeaturesFile, stringify(ALL_FEATURES));
  // Pod templates are checked against the restricted Pod Security level: a violation is a warning.
  const label = kubectl(
    'label',
    'namespace',
    release.name,
    'pod-security.kubernetes.io/enforce=restricted',
    'pod-security.kubernetes.io/warn=restricted',
  );
  expect(label.status, label.stderr).toBe(0);
}, 30 * 60_000); // the first run builds helm: minutes

describe('the chart', () => {
  it('passes helm lint --strict, with default values and with every feature on', () => {
    for (const args of [[], ['--values', allFeaturesFile]]) {
      const run = helm('lint', '--strict', CHART, ...args);
      expect(run.status, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('0 chart(s) failed');
    }
  });

  it('renders the three components with default values, and no optional extras', () => {
    const objects = render('rdev', 'rdev-system');
    expect(kinds(objects)).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'StatefulSet',
    ]);
    expect(named(objects, 'ServiceAccount').map((o) => o.metadata.name)).toEqual([
      'rdev-operator',
      'rdev-shim',
      'rdev-worker',
    ]);
    const operator = named(objects, 'Deployment').find((d) => d.metadata.name === 'rdev-operator');
    expect(operator?.spec?.replicas).toBe(2);
    const pod = (operator?.spec?.template as { spec: Record<string, unknown> } | undefined)?.spec ?? {};
    expect(pod.serviceAccountName).toBe('rdev-operator');
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const container = containerOf(objects, 'operator');
    expect(container.args.slice(0, 2)).toEqual(['operator', '--leader-elect']);
    expect(envOf(container, { name: 'p', namespace: 'n' })).toMatchObject({
      POD_NAME: 'p',
      POD_NAMESPACE: 'n',
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'health' } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'health' } });
    expect(container.ports).toEqual([
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'health', containerPort: 8081, protocol: 'TCP' },
    ]);
    expect(containerOf(objects, 'shim').args).toEqual([
      'shim',
      '--listen=:8080',
      '--namespace=$(POD_NAMESPACE)',
      '--worker-namespace=rdev-system',
      '--max-objects-per-project=1000',
    ]);
    expect(containerOf(objects, 'worker').args[0]).toBe('worker');
    // Stable Pod names: each worker's Lease is named in its Role.
    const workers = workloadOf(objects, 'worker');
    expect(workers).toMatchObject({ kind: 'StatefulSet', metadata: { name: 'rdev-worker' } });
    expect(workers.spec).toMatchObject({ serviceName: 'rdev-worker', replicas: 2 });
    expect(named(objects, 'Service').find((o) => o.metadata.name === 'rdev-worker')?.spec).toMatchObject({
      clusterIP: 'None',
    });
  });

  it('maps the default values to the options of each component, as their parsers read them', () => {
    const objects = render('rdev', 'rdev-system');
    const operator = containerOf(objects, 'operator');
    const config = loadConfig(
      operator.args.slice(1),
      envOf(operator, { name: 'op-0', namespace: 'rdev-system' }),
    );
    expect(config).toMatchObject({
      leaderElect: true,
      leaderElectionNamespace: 'rdev-system',
      workerNamespace: 'rdev-system',
      shimNamespace: 'rdev-system',
      namespaces: [],
      metricsAddr: ':8080',
      healthAddr: ':8081',
      egressCIDRs: ['0.0.0.0/0', '::/0'],
      runnerIdleSeconds: 1800,
      dns: { mode: 'none' },
      git: { organization: 'rdev' },
      webhooks: { allowCIDRs: [] },
      allowedImages: [],
      workspaceCaps: {},
      maxDedicatedSessionsPerProject: 8,
      // Only the shim's Pods of this release may connect to workspaces.
      shimPodLabels: [
        'app.kubernetes.io/name=rdev',
        'app.kubernetes.io/instance=rdev',
        'app.kubernetes.io/component=shim',
      ],
      // The versioned references make images builds and the release pushes.
      images: { claudeCode: IMAGES['workspace-claude-code'], opencode: IMAGES['workspace-opencode'] },
    });
    for (const component of ['operator', 'shim', 'worker'])
      expect(containerOf(objects, component).image, component).toBe(IMAGES.rdev);
    expect(config.git.url).toBeUndefined();
    const worker = containerOf(objects, 'worker');
    const workerConfig = loadWorkerConfig(
      worker.args.slice(1),
      envOf(worker, { name: 'w-0', namespace: 'rdev-system' }),
    );
    expect(workerConfig).toMatchObject({
      name: 'w-0',
      namespace: 'rdev-system',
      capacity: 2,
      runnerWaitSeconds: 120,
    });
    // No Woodpecker configured: no token file, no Secret mounted.
    expect(workerConfig.ci.tokenFile).toBeUndefined();
    expect(podSpecOf(objects, 'worker').volumes?.filter((v) => v.secret)).toEqual([]);
    // No live output: no token, and the workers accept no connections.
    expect(workerConfig.outputTokenFile).toBeUndefined();
    const workerPolicy = named(objects, 'NetworkPolicy').find(
      (p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'worker',
    );
    expect(workerPolicy?.spec?.ingress).toEqual([]);
    // The operator's egress is restricted by default: webhooks reach public addresses only.
    const operatorPolicy = named(objects, 'NetworkPolicy').find(
      (p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'operator',
    )?.spec as { policyTypes: string[]; egress: { ports?: unknown[]; to?: unknown[] }[] } | undefined;
    expect(operatorPolicy?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(operatorPolicy?.egress).toContainEqual({
      ports: [
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ],
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        },
      ],
    });
    const publicRule = operatorPolicy?.egress.find((r) =>
      JSON.stringify(r.to ?? []).includes('"0.0.0.0/0"'),
    ) as { ports: unknown[]; to: { ipBlock: { cidr: string; except?: string[] } }[] } | undefined;
    expect(publicRule?.ports).toEqual([
      { port: 80, protocol: 'TCP' },
      { port: 443, protocol: 'TCP' },
    ]);
    expect(publicRule?.to[0]?.ipBlock.except).toEqual(
      expect.arrayContaining([
        '10.0.0.0/8',
        '172.16.0.0/12',
        '192.168.0.0/16',
        '169.254.0.0/16',
        '127.0.0.0/8',
      ]),
    );
    expect(publicRule?.to[1]?.ipBlock).toEqual({
      cidr: '::/0',
      except: ['fc00::/7', 'fe80::/10', '::1/128'],
    });
    const noOperatorEgress = render(
      'rdev',
      'rdev-system',
      '--set',
      'networkPolicies.operatorEgress.enabled=false',
    );
    expect(
      named(noOperatorEgress, 'NetworkPolicy').find(
        (p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'operator',
      )?.spec?.policyTypes,
    ).toEqual(['Ingress']);
    const shim = containerOf(objects, 'shim');
    const shimEnv = envOf(shim, { name: 'shim-0', namespace: 'rdev-system' });
    expect(loadShimConfig(argsOf(shim, shimEnv), shimEnv)).toMatchObject({
      listen: ':8080',
      namespace: 'rdev-system',
      namespaces: [],
      workerNamespace: 'rdev-system',
      logLevel: 'info',
    });
  });

  it('renders every optional feature, mapped to the options of each component', () => {
    const objects = render('rdev', 'rdev-system', '--values', allFeaturesFile);
    expect(kinds(objects)).toContain('Ingress');
    expect(kinds(objects)).toContain('ServiceMonitor');
    const ingress = named(objects, 'Ingress')[0];
    expect(ingress?.spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['rdev.example.dev'], secretName: 'rdev-tls' }],
    });
    for (const policy of named(objects, 'NetworkPolicy')) {
      expect(policy.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    }
    const operator = containerOf(objects, 'operator');
    const config = loadConfig(
      operator.args.slice(1),
      envOf(operator, { name: 'op-0', namespace: 'rdev-system' }),
    );
    expect(config).toMatchObject({
      storageClassName: 'standard',
      egressCIDRs: ['10.0.0.0/8'],
      maxRunning: 20,
      runnerIdleSeconds: 600,
      domain: 'example.dev',
      images: { claudeCode: 'registry.example.dev/claude:1', opencode: 'registry.example.dev/opencode:1' },
      git: {
        url: 'https://git.example.dev',
        organization: 'agents',
        secret: 'rdev-system/gitea',
        webhooks: ['https://ci.example.dev/hook', 'https://chat.example.dev/hook'],
      },
      ci: { url: 'https://ci.example.dev', secret: 'rdev-system/woodpecker' },
      dns: {
        mode: 'cloudflare',
        target: 'CNAME:ingress.example.dev',
        proxied: true,
        cloudflareZoneId: '0123abcd',
        cloudflareSecret: 'rdev-system/cloudflare',
        cloudflareApiURL: 'https://api.cloudflare.com/client/v4',
      },
      postgresAdminSecret: 'rdev-system/postgres-admin',
      cockroachdbAdminSecret: 'rdev-system/cockroach-admin',
      redisAdminSecret: 'rdev-system/redis-admin',
      cacheCheckSeconds: 30,
      webhooks: { allowCIDRs: ['10.20.0.0/16'] },
      allowedImages: ['ghcr.io/rdev-dev/*', 'registry.example.dev/*'],
      preview: {
        domain: 'preview.example.dev',
        ingressClassName: 'nginx',
        tlsSecret: 'preview-tls',
        dnsRecords: true,
        ingressNamespace: 'ingress-nginx',
      },
      workspaceCaps: { cpu: '8', memory: '16Gi' },
      maxDedicatedSessionsPerProject: 3,
    });
    const worker = containerOf(objects, 'worker');
    const workerEnv = envOf(worker, { name: 'w-0', namespace: 'rdev-system' });
    const workerConfig = loadWorkerConfig(argsOf(worker, workerEnv), workerEnv);
    expect(workerConfig).toMatchObject({
      capacity: 4,
      runnerWaitSeconds: 60,
      ci: { url: 'https://ci.example.dev', tokenFile: '/etc/rdev/woodpecker/WOODPECKER_TOKEN' },
      commands: { build: 'make build', test: 'make test: all', deploy: 'make deploy' },
      // Live output: the token mounted, served on the health port at the Pod's address.
      outputTokenFile: '/etc/rdev/output/OUTPUT_TOKEN',
      outputHost: '10.0.0.7',
      healthAddr: ':8081',
    });
    // The token file is the WOODPECKER_TOKEN key of the Woodpecker Secret, mounted read-only.
    const pod = podSpecOf(objects, 'worker');
    const volume = pod.volumes?.find((v) => v.secret?.secretName === 'woodpecker');
    expect(volume?.secret?.items).toEqual([{ key: 'WOODPECKER_TOKEN', path: 'WOODPECKER_TOKEN' }]);
    expect(worker.volumeMounts).toContainEqual({
      name: volume?.name,
      mountPath: '/etc/rdev/woodpecker',
      readOnly: true,
    });
    const shim = containerOf(objects, 'shim');
    const shimEnv = envOf(shim, { name: 'shim-0', namespace: 'rdev-system' });
    expect(loadShimConfig(argsOf(shim, shimEnv), shimEnv)).toMatchObject({
      bootstrapKeySecret: 'shim-bootstrap',
      trustProxy: '10.0.0.0/8,192.168.0.1',
      workerOutputTokenFile: '/etc/rdev/output/OUTPUT_TOKEN',
      webhookAllowCIDRs: ['10.20.0.0/16'],
      allowedImages: ['ghcr.io/rdev-dev/*', 'registry.example.dev/*'],
      workspaceCaps: { cpu: '8', memory: '16Gi' },
      maxObjectsPerProject: 50,
    });
    // The operator reaches the API server it was told of, and the allowed webhook ranges.
    const operatorEgress = (
      named(objects, 'NetworkPolicy').find(
        (p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'operator',
      )?.spec as { egress: unknown[] } | undefined
    )?.egress;
    expect(operatorEgress).toContainEqual({
      ports: [{ port: 443, protocol: 'TCP' }],
      to: [{ ipBlock: { cidr: '10.96.0.1/32' } }],
    });
    expect(operatorEgress).toContainEqual({ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }] });
    expect(operatorEgress).toContainEqual({ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] });
    // The same Secret's OUTPUT_TOKEN, mounted read-only into the workers and the shim.
    for (const component of ['worker', 'shim']) {
      const spec = podSpecOf(objects, component);
      const tokenVolume = spec.volumes?.find((v) => v.secret?.secretName === 'rdev-output');
      expect(tokenVolume?.secret?.items, component).toEqual([{ key: 'OUTPUT_TOKEN', path: 'OUTPUT_TOKEN' }]);
      expect(containerOf(objects, component).volumeMounts).toContainEqual({
        name: tokenVolume?.name,
        mountPath: '/etc/rdev/output',
        readOnly: true,
      });
    }
    // Only the shim may connect to a worker, on its health port; with egress restricted, the
    // shim may reach it.
    const policyOf = (component: string) =>
      named(objects, 'NetworkPolicy').find(
        (p) => p.metadata.labels?.['app.kubernetes.io/component'] === component,
      )?.spec as { ingress: unknown[]; egress: unknown[] } | undefined;
    const shimPods = {
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/name': 'rdev',
          'app.kubernetes.io/instance': 'rdev',
          'app.kubernetes.io/component': 'shim',
        },
      },
    };
    expect(policyOf('worker')?.ingress).toEqual([
      { ports: [{ port: 8081, protocol: 'TCP' }], from: [shimPods] },
    ]);
    expect(policyOf('shim')?.egress).toContainEqual({
      ports: [{ port: 8081, protocol: 'TCP' }],
      to: [
        {
          podSelector: {
            matchLabels: { ...shimPods.podSelector.matchLabels, 'app.kubernetes.io/component': 'worker' },
          },
        },
      ],
    });
  });

  it('pins every image by digest: the operator, the shim, the workers and the agent images', () => {
    const digest = (n: number) => `sha256:${String(n).repeat(64)}`;
    const sets = (...values: string[]) => values.flatMap((v) => ['--set', v]);
    const pinned = render(
      'rdev',
      'rdev-system',
      ...sets(
        `image.digest=${digest(1)}`,
        `providers.agentImages.claudeCode.digest=${digest(2)}`,
        `providers.agentImages.opencode.digest=${digest(3)}`,
      ),
    );
    const rdev = `${IMAGES.rdev}@${digest(1)}`;
    for (const component of ['operator', 'shim', 'worker'])
      expect(containerOf(pinned, component).image, component).toBe(rdev);
    // The agent images reach the operator as its options, as its parser reads them.
    const operator = containerOf(pinned, 'operator');
    const config = loadConfig(operator.args.slice(1), envOf(operator, { name: 'op-0', namespace: 'n' }));
    expect(config.images).toEqual({
      claudeCode: `${IMAGES['workspace-claude-code']}@${digest(2)}`,
      opencode: `${IMAGES['workspace-opencode']}@${digest(3)}`,
    });

    // The workers' own image: its own digest, and none of image's when it names another image.
    const other = render(
      'rdev',
      'rdev-system',
      ...sets(`image.digest=${digest(1)}`, 'worker.image.repository=registry.example.dev/rdev'),
    );
    expect(containerOf(other, 'operator').image).toBe(rdev);
    expect(containerOf(other, 'worker').image).toBe(`registry.example.dev/rdev:${RDEV_VERSION}`);
    const own = render(
      'rdev',
      'rdev-system',
      ...sets(`image.digest=${digest(1)}`, 'worker.image.tag=next', `worker.image.digest=${digest(4)}`),
    );
    expect(containerOf(own, 'worker').image).toBe(`ghcr.io/rdev-dev/rdev:next@${digest(4)}`);

    // A digest is sha256:<64 hex digits>, nothing else.
    const bad = helm('template', 'rdev', CHART, ...sets('providers.agentImages.opencode.digest=latest'));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("at '/providers/agentImages/opencode/digest'");
  });

  it('rejects values its schema does not allow, naming the value at fault', () => {
    const wrongType = helm('template', 'rdev', CHART, '--set', 'operator.replicas=two');
    expect(wrongType.status).not.toBe(0);
    expect(wrongType.stderr).toContain("at '/operator/replicas': got string, want integer");
    const misspelt = helm('template', 'rdev', CHART, '--set', 'worker.capacitty=3');
    expect(misspelt.status).not.toBe(0);
    expect(misspelt.stderr).toContain("at '/worker': additional properties 'capacitty' not allowed");
    const badMode = helm('template', 'rdev', CHART, '--set', 'providers.dns.mode=route53');
    expect(badMode.status).not.toBe(0);
    expect(badMode.stderr).toContain("at '/providers/dns/mode': value must be one of");
    // Trusting every proxy hop would let any client name its own address.
    const trustAll = helm('template', 'rdev', CHART, '--set', 'shim.trustProxy=true');
    expect(trustAll.status).not.toBe(0);
    expect(trustAll.stderr).toContain('/shim/trustProxy');
    const hops = render('rdev', 'rdev-system', '--set', 'shim.trustProxy=1');
    expect(JSON.stringify(hops)).toContain('--trust-proxy=1');
  });

  it('grants no wildcard: every rule names its groups, resources and verbs', () => {
    for (const args of [
      ['--values', allFeaturesFile],
      ['--set', 'worker.replicas=0'],
    ]) {
      const objects = render('rdev', 'rdev-system', ...args);
      const rules = [...named(objects, 'ClusterRole'), ...named(objects, 'Role')].flatMap(
        (r) => (r as unknown as { rules: Rule[] }).rules,
      );
      expect(rules.length).toBeGreaterThan(10);
      for (const rule of rules) {
        for (const field of [rule.apiGroups, rule.resources, rule.verbs]) {
          expect(field.length).toBeGreaterThan(0);
          expect(field.some((v) => v.includes('*'))).toBe(false);
        }
        // An empty resourceNames would mean every name.
        if (rule.resourceNames) expect(rule.resourceNames.length).toBeGreaterThan(0);
      }
    }
  });

  it('gives the worker no Secret, pods get and exec, and Leases of its own replicas only', () => {
    for (const [replicas, args] of [
      [2, []],
      [3, ['--values', allFeaturesFile]],
      [0, ['--set', 'worker.replicas=0']],
    ] as const) {
      const objects = render('rdev', 'rdev-system', ...args);
      const rules = rulesOf(objects, 'worker');
      expect(rules.filter((r) => r.resources.includes('secrets'))).toEqual([]);
      expect(rules).toContainEqual({ apiGroups: [''], resources: ['pods'], verbs: ['get'] });
      expect(rules.find((r) => r.resources.includes('pods/exec'))?.verbs).toContain('create');
      // Each Pod of the StatefulSet is a worker of that name; its Lease is workerLeaseName(name).
      const workers = workloadOf(objects, 'worker');
      expect(workers.spec?.replicas).toBe(replicas);
      const names = Array.from({ length: replicas }, (_, i) =>
        workerLeaseName(`${workers.metadata.name}-${i}`),
      );
      expect(leaseRules(rules)).toEqual(
        replicas === 0
          ? []
          : [
              {
                apiGroups: ['coordination.k8s.io'],
                resources: ['leases'],
                resourceNames: names,
                verbs: ['create', 'patch', 'delete'],
              },
            ],
      );
    }
  });

  it("limits the operator's Lease writes to its leader Lease", () => {
    const rules = leaseRules(rulesOf(render('rdev', 'rdev-system'), 'operator'));
    // create (a POST: no name to match) and the reads of the workers' heartbeats are unnamed.
    for (const rule of rules.filter((r) => r.verbs.some((v) => !['create', 'list', 'watch'].includes(v))))
      expect(rule.resourceNames).toEqual(['rdev-operator-leader']);
    expect(rules.flatMap((r) => r.verbs).sort()).toEqual(['create', 'get', 'list', 'update', 'watch']);
  });

  it('is accepted by the API server (server-side dry run), every Pod template within restricted Pod Security', async () => {
    for (const [name, args] of [
      ['defaults', []],
      ['all-features', ['--values', allFeaturesFile]],
    ] as const) {
      // The ServiceMonitor's CRD (prometheus-operator) is not installed here.
      const objects = render(uniqueName('dry'), release.name, ...args).filter(
        (o) => o.kind !== 'ServiceMonitor',
      );
      const file = await writeObjects(`${name}.yaml`, objects);
      const run = kubectl(
        'apply',
        '--server-side',
        '--dry-run=server',
        '--field-manager=rdev-chart-test',
        '-f',
        file,
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr, name).not.toMatch(/would violate PodSecurity/);
      expect(run.stdout.trim().split('\n')).toHaveLength(objects.length);
    }
  });

  it("holds copies of the repository's CRDs, identical to crds/", async () => {
    const files = (dir: string) => readdir(dir).then((f) => f.filter((n) => n.endsWith('.yaml')).sort());
    const ours = await files(join(ROOT, 'crds'));
    expect(await files(join(CHART, 'crds'))).toEqual(ours);
    for (const file of ours) {
      const [chart, repo] = await Promise.all([
        readFile(join(CHART, 'crds', file), 'utf8'),
        readFile(join(ROOT, 'crds', file), 'utf8'),
      ]);
      expect(chart, `charts/rdev/crds/${file} differs from crds/${file}: make chart-crds`).toBe(repo);
    }
  });
});

/** A KubeConfig for the same API server that authenticates with a ServiceAccount token only. */
function tokenKubeConfig(user: string, token: string): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  return config;
}

/** A token of ServiceAccount namespace/name from the TokenRequest API. */
async function requestToken(namespace: string, name: string): Promise<string> {
  const answer = await admin.request<{ status: { token: string } }>(
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      method: 'POST',
      verb: 'create',
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  return answer.status.token;
}

/** The user the API server sees behind a client. */
async function whoAmI(client: KubeClient): Promise<string> {
  const review = await client.request<{ status: { userInfo: { username: string } } }>(
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    {
      method: 'POST',
      verb: 'create',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    },
  );
  return review.status.userInfo.username;
}

/** The HTTP status of a call that is expected to fail. */
async function refusal(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
  return 200;
}

describe("the chart's RBAC, with the ServiceAccounts' own tokens", () => {
  const releaseName = uniqueName('rbac');
  const state: {
    operator?: Manager;
    worker?: WorkerProcess;
    operatorClient?: KubeClient;
    workerClient?: KubeClient;
    workerName: string;
    forbiddenWorkerLines: string[];
  } = { workerName: '', forbiddenWorkerLines: [] };
  const sa = (component: string) => `${releaseName}-rdev-${component}`;

  // Stopped after the tenant namespace is gone (the operator removes its finalizers), before the
  // release namespace (holding the ServiceAccounts) goes: hooks run last-registered first.
  afterAll(async () => {
    await state.operator?.stop();
    state.worker?.kill('SIGKILL');
    kubectl('delete', 'clusterrole,clusterrolebinding', '-l', `app.kubernetes.io/instance=${releaseName}`);
  });
  // The namespace Projects and WorkItems live in: reached through the ClusterRoles only.
  const tenant = useNamespace('rdev-chart-tenant');

  beforeAll(async () => {
    await installCrds(kc);
    const objects = render(releaseName, release.name);
    const rbac = objects.filter((o) =>
      ['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(o.kind),
    );
    const file = await writeObjects('rbac.yaml', rbac);
    const applied = kubectl('apply', '--server-side', '--field-manager=rdev-chart-test', '-f', file);
    expect(applied.status, applied.stderr).toBe(0);

    // The operator, in this process, configured exactly as the chart's Deployment configures it
    // (its arguments and environment), watching the tenant namespace.
    const operatorKc = tokenKubeConfig('operator', await requestToken(release.name, sa('operator')));
    state.operatorClient = new KubeClient(operatorKc);
    const container = containerOf(objects, 'operator');
    const identity = `${sa('operator')}-0`;
    const config = loadConfig(
      [...container.args.slice(1), `--namespace=${tenant.name}`, '--health-addr=', '--metrics-addr='],
      envOf(container, { name: identity, namespace: release.name }),
    );
    expect(config.leaderElect).toBe(true);
    const manager = new Manager({
      kubeConfig: operatorKc,
      name: 'rdev-operator',
      identity,
      namespaces: config.namespaces,
      leaderElection: { namespace: config.leaderElectionNamespace },
      log: createLogger({ level: process.env.RDEV_TEST_LOG_LEVEL ?? 'silent', name: 'rdev-operator' }),
      onLostLeadership: () => undefined,
    });
    registerProjectController(manager, config);
    registerWorkControllers(manager, config);
    registerCheckoutController(manager, config);
    registerSessionController(manager, config);
    await manager.start();
    state.operator = manager;

    // A worker process with the chart's worker arguments and the worker's token, named as the
    // StatefulSet names its first Pod (the only names whose Leases the chart grants); its Lease
    // namespace and health address are this machine's.
    const workerToken = await requestToken(release.name, sa('worker'));
    const workerKc = tokenKubeConfig('worker', workerToken);
    state.workerClient = new KubeClient(workerKc);
    const kubeconfigFile = join(work, 'worker-kubeconfig');
    await writeFile(kubeconfigFile, workerKc.exportConfig(), { mode: 0o600 });
    state.workerName = `${workloadOf(objects, 'worker').metadata.name}-0`;
    state.worker = spawnWorker(tenant.name, state.workerName, [
      ...containerOf(objects, 'worker').args.slice(1),
      `--kubeconfig=${kubeconfigFile}`,
      `--lease-namespace=${release.name}`,
      '--health-addr=',
    ]);
    createInterface({ input: state.worker.process.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (/forbidden/i.test(line)) state.forbiddenWorkerLines.push(line);
    });
  });

  it('authenticates as the ServiceAccounts, not as the admin', async () => {
    const { operatorClient, workerClient } = state as Required<typeof state>;
    expect(await whoAmI(operatorClient)).toBe(`system:serviceaccount:${release.name}:${sa('operator')}`);
    expect(await whoAmI(workerClient)).toBe(`system:serviceaccount:${release.name}:${sa('worker')}`);
  });

  it('lets the operator lead: the leader Lease in the release namespace', async () => {
    const manager = state.operator as Manager;
    await eventually(() => manager.isLeader, { timeoutMs: 30_000 });
    const lease = await admin.get<KubeObject & { spec: { holderIdentity: string } }>(
      LEASES,
      release.name,
      'rdev-operator-leader',
    );
    expect(lease.spec.holderIdentity).toBe(manager.identity);
  });

  it('is enough for a Project to become Ready, with its children and Events', async () => {
    await createAgentSecret(tenant.name);
    const projects = rdevKind(admin, PROJECTS, tenant, { spec: PROJECT_SPEC });
    await projects.create('shop');
    const project = await projects.phase('shop', 'Ready');
    expect(project.status?.phase).toBe('Ready');
    const pod = await admin.get(PODS, tenant.name, 'shop-workspace');
    expect(pod.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Project', name: 'shop' });
    // Events are best effort in the operator (a failure is only logged): look for them.
    const events = await eventually(async () => {
      const list = await admin.list<KubeObject & { regarding?: { name?: string } }>(EVENTS, tenant.name);
      const about = list.items.filter((e) => e.regarding?.name === 'shop');
      return about.length > 0 && about;
    });
    expect(events.length).toBeGreaterThan(0);
  });

  it('is enough for a shell WorkItem to run to Succeeded on the worker, in a runner Pod', async () => {
    // The worker's heartbeat Lease: created by server-side apply under the name the Role grants.
    await eventually(() => admin.get(LEASES, release.name, workerLeaseName(state.workerName)), {
      timeoutMs: 30_000,
    });
    const items = rdevKind<LiveWorkItem>(admin, WORK_ITEMS, tenant);
    await items.create('hello', {
      projectRef: { name: 'shop' },
      type: 'shell',
      command: ['sh', '-c', 'echo hello from $RDEV_WORK_ITEM'],
    });
    const item = await items.phase('hello', 'Succeeded', 90_000);
    expect(item.status).toMatchObject({ phase: 'Succeeded', exitCode: 0, worker: state.workerName });
    expect(item.status?.outputTail).toContain('hello from hello');
    // Run through pods/exec in a runner the operator made (and deletes once the attempt is over).
    expect(item.status?.runner?.podName).toMatch(/runner/);
  });

  it('made no forbidden request along the way', async () => {
    const forbidden = await counterTotal(
      state.operator as Manager,
      'rest_client_requests_total',
      (l) => l.code === '403',
    );
    expect(forbidden).toBe(0);
    expect(state.forbiddenWorkerLines).toEqual([]);
  });

  it('allows the cluster-wide reads the components make', async () => {
    const { operatorClient, workerClient } = state as Required<typeof state>;
    // The worker's informer: WorkItems bound to it, in every namespace.
    const bound = await workerClient.list(WORK_ITEMS, undefined, {
      fieldSelector: boundTo(state.workerName),
    });
    expect(bound.items.map((i) => i.metadata.name)).toContain('hello');
    // The Pod an attempt is bound to, read by name until it is Ready.
    await expect(workerClient.get(PODS, tenant.name, 'shop-workspace')).resolves.toBeDefined();
    await expect(operatorClient.list(PODS)).resolves.toBeDefined();
    await expect(operatorClient.list(SECRETS)).resolves.toBeDefined();
    // Features: the Feature controller's and webhook delivery's informers.
    await expect(operatorClient.list(FEATURES)).resolves.toBeDefined();
  });

  it('refuses what the chart does not grant (403)', async () => {
    const { operatorClient, workerClient } = state as Required<typeof state>;
    const cases: [string, Promise<unknown>][] = [
      ['worker deletes a Project', workerClient.delete(PROJECTS, tenant.name, 'shop')],
      [
        'worker patches a Project',
        workerClient.patch(PROJECTS, tenant.name, 'shop', { spec: { suspend: true } }, 'merge'),
      ],
      ['worker reads a Secret', workerClient.get(SECRETS, tenant.name, AGENT_SECRET)],
      ['worker reads a Secret of the release namespace', workerClient.get(SECRETS, release.name, 'x')],
      ['worker lists Secrets cluster-wide', workerClient.list(SECRETS)],
      ['worker lists Secrets of a namespace', workerClient.list(SECRETS, tenant.name)],
      [
        'worker creates a Pod',
        workerClient.create(PODS, { metadata: { name: 'x', namespace: tenant.name } }),
      ],
      [
        "worker patches a Pod (claims are the operator's)",
        workerClient.patch(
          PODS,
          tenant.name,
          'shop-workspace',
          { metadata: { labels: { x: 'y' } } },
          'merge',
        ),
      ],
      ['worker deletes a Pod', workerClient.delete(PODS, tenant.name, 'shop-workspace')],
      [
        "worker patches the operator's leader Lease",
        workerClient.patch(
          LEASES,
          release.name,
          'rdev-operator-leader',
          { spec: { holderIdentity: state.workerName } },
          'merge',
        ),
      ],
      [
        "worker deletes the operator's leader Lease",
        workerClient.delete(LEASES, release.name, 'rdev-operator-leader'),
      ],
      [
        'worker applies a Lease of a name the chart does not list',
        workerClient.patch(
          LEASES,
          release.name,
          workerLeaseName('intruder'),
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: workerLeaseName('intruder'), namespace: release.name },
          },
          'apply',
          { fieldManager: 'rdev-worker', force: true },
        ),
      ],
      [
        'worker creates a Lease by POST, even of its own name',
        workerClient.create(LEASES, {
          metadata: { name: workerLeaseName(state.workerName), namespace: release.name },
        }),
      ],
      ['worker deletes a Lease outside its namespace', workerClient.delete(LEASES, tenant.name, 'x')],
      ['operator deletes a Project', operatorClient.delete(PROJECTS, tenant.name, 'shop')],
      [
        'operator creates a Lease outside the release namespace',
        operatorClient.create(LEASES, { metadata: { name: 'x', namespace: tenant.name } }),
      ],
      [
        'operator updates another Lease of the release namespace',
        operatorClient.replace(LEASES, { metadata: { name: 'someone-else', namespace: release.name } }),
      ],
      [
        'operator execs into a Pod',
        operatorClient.request(operatorClient.path(PODS, tenant.name, 'shop-workspace', 'exec'), {
          method: 'POST',
          verb: 'create',
          query: { command: 'id', stdout: true },
        }),
      ],
      ['operator reads a Lease of another namespace', operatorClient.get(LEASES, 'kube-system', 'x')],
    ];
    const outcomes = await Promise.all(
      cases.map(async ([what, call]) => [what, await refusal(call)] as const),
    );
    expect(Object.fromEntries(outcomes)).toEqual(Object.fromEntries(cases.map(([what]) => [what, 403])));
  });

  it("is enough for the shim's API: keys, reads, writes, exec, webhooks, the pool", async () => {
    // The shim in this process, configured as the chart's Deployment configures it (watching every
    // namespace), with its ServiceAccount's token; the bootstrap key from a Secret it reads.
    const objects = render(releaseName, release.name);
    const container = containerOf(objects, 'shim');
    const env = envOf(container, { name: `${sa('shim')}-0`, namespace: release.name });
    const config = loadShimConfig([...argsOf(container, env), '--bootstrap-key-secret=rdev-bootstrap'], env);
    const bootstrap = `rdev_${uniqueName('boot')}`;
    await admin.create(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'rdev-bootstrap', namespace: release.name },
      stringData: { key: bootstrap },
    });
    const shimKc = tokenKubeConfig('shim', await requestToken(release.name, sa('shim')));
    expect(await whoAmI(new KubeClient(shimKc))).toBe(`system:serviceaccount:${release.name}:${sa('shim')}`);
    const shim = await createShim(
      shimKc,
      config,
      createLogger({ level: process.env.RDEV_TEST_LOG_LEVEL ?? 'silent', name: 'rdev-shim' }),
    );
    try {
      const url = await shim.app.listen({ host: '127.0.0.1', port: 0 });
      await shim.context.cache.waitForSync();
      const answers: { route: string; status: number }[] = [];
      const call = async <T>(key: string, method: string, path: string, body?: unknown) => {
        const response = await fetch(`${url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        answers.push({ route: `${method} ${path}`, status: response.status });
        return { status: response.status, data: (text.startsWith('{') ? JSON.parse(text).data : text) as T };
      };
      const ns = `?namespace=${tenant.name}`;
      expect((await fetch(`${url}/ready`)).status).toBe(200);

      const made = await call<{ key: string; id: string }>(bootstrap, 'POST', '/keys', {
        name: 'ci',
        scopes: ['admin'],
      });
      expect(made.status).toBe(201);
      const key = made.data.key;
      await eventually(() => shim.context.keys.get(made.data.id));
      const projects = await call<{ name: string }[]>(key, 'GET', `/projects${ns}`);
      expect(projects.data.map((p) => p.name)).toContain('shop');
      expect((await call(key, 'PATCH', `/projects/shop${ns}`, { labels: { team: 'web' } })).status).toBe(200);
      // A spec naming a Secret: the shim reads its labels (its metadata) to check it is shop's.
      await admin.patch(
        SECRETS,
        tenant.name,
        AGENT_SECRET,
        { metadata: { labels: { 'rdev.dev/project': 'shop' } } },
        'merge',
      );
      const named = await call(key, 'PATCH', `/projects/shop${ns}`, {
        spec: { agent: { credentialsSecretRef: { name: AGENT_SECRET } } },
      });
      expect(named.status, JSON.stringify(named.data)).toBe(200);
      const item = await call<{ name: string }>(key, 'POST', `/projects/shop/work${ns}`, {
        spec: { type: 'shell', command: ['true'] },
      });
      expect(item.status).toBe(201);
      const pool = await eventually(async () => {
        const p = await call<{ members: { name: string }[] }>(key, 'GET', '/workers/pool');
        return p.data.members.length > 0 && p.data;
      });
      expect(pool.members.map((m) => m.name)).toContain(state.workerName);
      // A Feature: created, a decision written (a merge patch conditional on its resourceVersion,
      // after a read from the API server), deleted.
      const feature = await call(key, 'POST', `/projects/shop/features${ns}`, {
        name: 'login',
        spec: { title: 'Log in' },
      });
      expect(feature.status).toBe(201);
      const waived = await call(key, 'POST', `/features/login/waive${ns}`, {
        artifact: 'qa_plan',
        reason: 'rbac',
      });
      expect(waived.status).toBe(200);
      expect((await call(key, 'DELETE', `/features/login${ns}`)).status).toBe(202);
      expect((await call(key, 'POST', `/projects/shop/sessions${ns}`, { name: 'dev' })).status).toBe(201);
      await eventually(
        async () =>
          (await call<{ status: { phase?: string } }>(key, 'GET', `/sessions/dev${ns}`)).data?.status
            ?.phase === 'Active',
      );
      const exec = await call<string>(key, 'POST', `/sessions/dev/exec${ns}`, { command: ['echo', 'rbac'] });
      expect(exec.data).toContain('event: exit');
      expect(exec.data).toContain('rbac\\n');
      const hook = await call<{ id: string }>(key, 'POST', '/webhooks', {
        url: 'https://hooks.example.com/rdev',
        events: ['*'],
      });
      expect(hook.status).toBe(201);
      expect((await call(key, 'DELETE', `/webhooks/${hook.data.id}`)).status).toBe(202);
      expect((await call(key, 'DELETE', `/work/${item.data.name}${ns}`)).status).toBe(202);
      expect((await call(key, 'DELETE', `/sessions/dev${ns}`)).status).toBe(202);
      // The key's last use is recorded on its Secret (a patch).
      await eventually(
        async () =>
          (await call<{ lastUsedAt?: string }>(key, 'GET', `/keys/${made.data.id}`)).data.lastUsedAt,
      );
      expect((await call(bootstrap, 'DELETE', `/keys/${made.data.id}`)).status).toBe(202);

      // A 403 from the API server would have surfaced as a 502.
      expect(answers.filter((a) => a.status >= 500)).toEqual([]);
      const shimClient = new KubeClient(shimKc);
      const refused = await Promise.all([
        refusal(shimClient.delete(PODS, tenant.name, 'shop-workspace')),
        refusal(shimClient.list(SECRETS, tenant.name)),
        refusal(shimClient.patch(PROJECTS, tenant.name, 'shop', { status: {} }, 'merge', {}, 'status')),
        refusal(shimClient.replace(PROJECTS, { metadata: { name: 'shop', namespace: tenant.name } })),
      ]);
      expect(refused).toEqual([403, 403, 403, 403]);
    } finally {
      await shim.close();
    }
  });
});

describe('the chart with watchNamespaces and providers.secretsNamespace: rights there only', () => {
  const releaseName = uniqueName('scoped');
  const sa = (component: string) => `${releaseName}-rdev-${component}`;
  const served = useNamespace('rdev-chart-served');
  const outsider = useNamespace('rdev-chart-outsider');
  const providerSecrets = useNamespace('rdev-chart-providers');
  const clients: Record<string, KubeClient> = {};
  afterAll(() => {
    kubectl('delete', 'clusterrole,clusterrolebinding', '-l', `app.kubernetes.io/instance=${releaseName}`);
  });

  beforeAll(async () => {
    const objects = render(
      releaseName,
      release.name,
      '--set',
      `watchNamespaces={${served.name}}`,
      '--set',
      `providers.secretsNamespace=${providerSecrets.name}`,
      '--set',
      'providers.gitea.tokenSecret=gitea',
    );
    expect(named(objects, 'ClusterRoleBinding')).toEqual([]);
    const rbac = objects.filter((o) =>
      ['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(o.kind),
    );
    const applied = kubectl(
      'apply',
      '--server-side',
      '--field-manager=rdev-chart-test',
      '-f',
      await writeObjects('scoped-rbac.yaml', rbac),
    );
    expect(applied.status, applied.stderr).toBe(0);
    for (const component of ['operator', 'shim', 'worker']) {
      clients[component] = new KubeClient(
        tokenKubeConfig(component, await requestToken(release.name, sa(component))),
      );
    }
    // The components are told the same namespaces.
    expect(containerOf(objects, 'operator').args).toContain(`--namespace=${served.name}`);
    expect(containerOf(objects, 'worker').args).toContain(`--namespace=${served.name}`);
    expect(containerOf(objects, 'shim').args).toContain(`--watch-namespace=${served.name}`);
    expect(containerOf(objects, 'operator').args).toContain(`--gitea-secret=${providerSecrets.name}/gitea`);
  });

  /** Whether the API server lets `component` do it (a SelfSubjectAccessReview with its token). */
  async function can(
    component: string,
    attributes: { verb: string; resource: string; namespace?: string; name?: string; subresource?: string },
  ): Promise<boolean> {
    const review = await (clients[component] as KubeClient).request<{ status: { allowed: boolean } }>(
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        method: 'POST',
        verb: 'create',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { group: '', version: 'v1', ...attributes } },
        },
      },
    );
    return review.status.allowed;
  }

  it('grants in the served namespaces what it grants cluster-wide otherwise, and nothing elsewhere', async () => {
    const rights = async (namespace: string | undefined) => ({
      operatorCreatesPods: await can('operator', { verb: 'create', resource: 'pods', namespace }),
      operatorListsSecrets: await can('operator', { verb: 'list', resource: 'secrets', namespace }),
      workerExecs: await can('worker', { verb: 'create', resource: 'pods', subresource: 'exec', namespace }),
      shimReadsSecrets: await can('shim', { verb: 'get', resource: 'secrets', namespace, name: 'x' }),
      shimExecs: await can('shim', { verb: 'create', resource: 'pods', subresource: 'exec', namespace }),
    });
    const all = {
      operatorCreatesPods: true,
      operatorListsSecrets: true,
      workerExecs: true,
      shimReadsSecrets: true,
      shimExecs: true,
    };
    const none = Object.fromEntries(Object.keys(all).map((k) => [k, false]));
    expect(await rights(served.name)).toEqual(all);
    expect(await rights(outsider.name)).toEqual(none);
    expect(await rights(undefined)).toEqual(none); // cluster-wide
  });

  it("keeps the providers' admin Secrets from the shim; the operator reads the named ones only", async () => {
    const secrets = providerSecrets.name;
    expect(
      await can('operator', { verb: 'get', resource: 'secrets', namespace: secrets, name: 'gitea' }),
    ).toBe(true);
    expect(
      await can('operator', { verb: 'get', resource: 'secrets', namespace: secrets, name: 'other' }),
    ).toBe(false);
    expect(await can('operator', { verb: 'list', resource: 'secrets', namespace: secrets })).toBe(false);
    expect(await can('shim', { verb: 'get', resource: 'secrets', namespace: secrets, name: 'gitea' })).toBe(
      false,
    );
    // The release namespace: the shim's keys and webhook subscriptions; the operator's deliveries.
    expect(await can('shim', { verb: 'create', resource: 'secrets', namespace: release.name })).toBe(true);
    expect(await can('operator', { verb: 'watch', resource: 'secrets', namespace: release.name })).toBe(true);
    expect(
      await can('operator', { verb: 'patch', resource: 'secrets', namespace: release.name, name: 'x' }),
    ).toBe(true);
  });
});
