// `rdev worker` configuration: the same loader as the operator's (flags > env > --config file >
// defaults), its own option table.
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  HEALTH_ADDR_OPTION,
  KUBECONFIG_OPTION,
  kubeconfigField,
  LOG_LEVEL_OPTION,
  loadOptions,
  logLevelField,
  type OptionSpec,
} from '../config.ts';
import { WORKER_NAME_PATTERN } from '../shared/worker-names.ts';

export const workerConfig = z.object({
  kubeconfig: kubeconfigField,
  name: z
    .string()
    .regex(WORKER_NAME_PATTERN, 'must be usable as a label value (letters, digits, -, _, .; at most 63)')
    .describe('unique name of this worker'),
  namespace: z.string().min(1).describe('namespace of the heartbeat Lease'),
  namespaces: z.array(z.string().min(1)).describe('namespaces whose WorkItems it runs (empty: all)'),
  capacity: z.number().int().min(1).max(256).describe('WorkItems run at once'),
  leaseDurationSeconds: z.number().int().min(3).max(300).describe('heartbeat Lease duration'),
  workDir: z.string().min(1).describe('where scratch directories are made'),
  killGraceSeconds: z.number().min(0).max(600).describe('SIGTERM to SIGKILL grace'),
  outputFlushSeconds: z.number().min(0).max(3600).describe('output tail flush period (0: at the end only)'),
  commands: z
    .object({
      build: z.string().optional(),
      test: z.string().optional(),
      deploy: z.string().optional(),
    })
    .default({})
    .describe('shell commands for build, test and deploy items that give none'),
  ci: z
    .object({
      url: z.string().url().optional(),
      secret: z.string().optional(),
      pollSeconds: z.number().min(0.1).max(60),
    })
    .describe('Woodpecker, for build, test and deploy items run as the Project pipeline'),
  gitCredentialsSecret: z
    .string()
    .optional()
    .describe('Secret (namespace/name) with username and token for cloning Project repositories'),
  healthAddr: z.string().describe('address of /healthz, host:port (empty: off)'),
  logLevel: logLevelField,
});

export type WorkerConfig = z.infer<typeof workerConfig>;

export const WORKER_OPTIONS: OptionSpec[] = [
  KUBECONFIG_OPTION,
  {
    flag: 'name',
    env: 'POD_NAME',
    path: ['name'],
    kind: 'string',
    help: 'unique worker name (default: the host name)',
    default: hostname(),
  },
  {
    flag: 'lease-namespace',
    env: 'POD_NAMESPACE',
    path: ['namespace'],
    kind: 'string',
    help: "namespace of the worker's heartbeat Lease (the operator's --worker-namespace)",
    default: 'rdev-system',
  },
  {
    flag: 'namespace',
    env: 'RDEV_NAMESPACES',
    path: ['namespaces'],
    kind: 'list',
    help: 'namespace whose WorkItems to run; repeat or comma-separate (default: all)',
    default: [],
  },
  {
    flag: 'capacity',
    env: 'RDEV_WORKER_CAPACITY',
    path: ['capacity'],
    kind: 'number',
    help: 'WorkItems run at once',
    default: 2,
  },
  {
    flag: 'lease-duration-seconds',
    env: 'RDEV_WORKER_LEASE_SECONDS',
    path: ['leaseDurationSeconds'],
    kind: 'number',
    help: 'heartbeat Lease duration; the worker is lost this long after its last renewal',
    default: 15,
  },
  {
    flag: 'work-dir',
    env: 'RDEV_WORK_DIR',
    path: ['workDir'],
    kind: 'string',
    help: 'where scratch directories are made',
    default: join(tmpdir(), 'rdev-work'),
  },
  {
    flag: 'kill-grace-seconds',
    env: 'RDEV_KILL_GRACE_SECONDS',
    path: ['killGraceSeconds'],
    kind: 'number',
    help: 'seconds between SIGTERM and SIGKILL when an item is stopped',
    default: 10,
  },
  {
    flag: 'output-flush-seconds',
    env: 'RDEV_OUTPUT_FLUSH_SECONDS',
    path: ['outputFlushSeconds'],
    kind: 'number',
    help: 'how often a running item writes its output tail to status (0: at the end only)',
    default: 5,
  },
  {
    flag: 'build-command',
    env: 'RDEV_BUILD_COMMAND',
    path: ['commands', 'build'],
    kind: 'string',
    help: 'shell command for build items without a command, when the Project has no CI',
  },
  {
    flag: 'test-command',
    env: 'RDEV_TEST_COMMAND',
    path: ['commands', 'test'],
    kind: 'string',
    help: 'shell command for test items without a command, when the Project has no CI',
  },
  {
    flag: 'deploy-command',
    env: 'RDEV_DEPLOY_COMMAND',
    path: ['commands', 'deploy'],
    kind: 'string',
    help: 'shell command for deploy items without a command, when the Project has no CI',
  },
  {
    flag: 'woodpecker-url',
    env: 'RDEV_WOODPECKER_URL',
    path: ['ci', 'url'],
    kind: 'string',
    help: 'root URL of Woodpecker: build, test and deploy items without a command run the Project pipeline there',
  },
  {
    flag: 'woodpecker-secret',
    env: 'RDEV_WOODPECKER_SECRET',
    path: ['ci', 'secret'],
    kind: 'string',
    help: 'namespace/name of a Secret with WOODPECKER_TOKEN',
  },
  {
    flag: 'pipeline-poll-seconds',
    env: 'RDEV_PIPELINE_POLL_SECONDS',
    path: ['ci', 'pollSeconds'],
    kind: 'number',
    help: 'how often a running CI pipeline is looked at',
    default: 2,
  },
  {
    flag: 'git-credentials-secret',
    env: 'RDEV_GIT_CREDENTIALS_SECRET',
    path: ['gitCredentialsSecret'],
    kind: 'string',
    help: 'namespace/name of a Secret with username and token, to clone Project repositories',
  },
  HEALTH_ADDR_OPTION,
  LOG_LEVEL_OPTION,
];

export const loadWorkerConfig = (argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerConfig =>
  loadOptions(workerConfig, WORKER_OPTIONS, argv, env);
