// `rdev worker` configuration: its fields declare their options in `.meta({ option })`, filled by
// the same loader as the operator's (flags > env > --config file > defaults).
import { hostname } from 'node:os';
import { z } from 'zod';
import { commandOptions, healthAddrField, kubeconfigField, logLevelField } from '../shared/options.ts';
import { WORKER_NAME_PATTERN } from '../shared/worker-names.ts';

export const workerConfig = z.object({
  kubeconfig: kubeconfigField,
  name: z
    .string()
    .regex(WORKER_NAME_PATTERN, 'must be usable as a label value (letters, digits, -, _, .; at most 63)')
    .describe('unique name of this worker')
    .meta({
      option: {
        flag: 'name',
        env: 'POD_NAME',
        help: 'unique worker name (default: the host name)',
        default: hostname(),
        shownDefault: '(host name)',
      },
    }),
  namespace: z
    .string()
    .min(1)
    .describe('namespace of the heartbeat Lease')
    .meta({
      option: {
        flag: 'lease-namespace',
        env: 'POD_NAMESPACE',
        help: "namespace of the worker's heartbeat Lease (the operator's --worker-namespace)",
        default: 'rdev-system',
      },
    }),
  namespaces: z
    .array(z.string().min(1))
    .describe('namespaces whose WorkItems it runs (empty: all)')
    .meta({
      option: {
        flag: 'namespace',
        env: 'RDEV_NAMESPACES',
        help: 'namespace whose WorkItems to run; repeat or comma-separate (default: all)',
        default: [],
      },
    }),
  capacity: z
    .number()
    .int()
    .min(1)
    .max(256)
    .describe('WorkItems run at once')
    .meta({
      option: { flag: 'capacity', env: 'RDEV_WORKER_CAPACITY', help: 'WorkItems run at once', default: 2 },
    }),
  leaseDurationSeconds: z
    .number()
    .int()
    .min(3)
    .max(300)
    .describe('heartbeat Lease duration')
    .meta({
      option: {
        flag: 'lease-duration-seconds',
        env: 'RDEV_WORKER_LEASE_SECONDS',
        help: 'heartbeat Lease duration; the worker is lost this long after its last renewal',
        default: 15,
      },
    }),
  killGraceSeconds: z
    .number()
    .min(0)
    .max(600)
    .describe('SIGTERM to SIGKILL grace')
    .meta({
      option: {
        flag: 'kill-grace-seconds',
        env: 'RDEV_KILL_GRACE_SECONDS',
        help: 'seconds between SIGTERM and SIGKILL when an item is stopped',
        default: 10,
      },
    }),
  agentCommand: z
    .string()
    .optional()
    .describe("a program run in the agent CLI's place, given its command line")
    .meta({
      option: {
        flag: 'agent-command',
        env: 'RDEV_AGENT_COMMAND',
        help: "run this program in place of the agent's CLI, with the agent's command line as its arguments (a stand-in for tests and local planes; unset: the agent's CLI)",
      },
    }),
  runnerWaitSeconds: z
    .number()
    .min(1)
    .max(3600)
    .describe('how long an item waits for its Pod to be Ready')
    .meta({
      option: {
        flag: 'runner-wait-seconds',
        env: 'RDEV_RUNNER_WAIT_SECONDS',
        help: 'how long an item waits for the Pod it is bound to (its runner, or the workspace) to be Ready; then the attempt is lost and retried',
        default: 120,
      },
    }),
  outputFlushSeconds: z
    .number()
    .min(0)
    .max(3600)
    .describe('output tail flush period (0: at the end only)')
    .meta({
      option: {
        flag: 'output-flush-seconds',
        env: 'RDEV_OUTPUT_FLUSH_SECONDS',
        help: 'how often a running item writes its output tail to status (0: at the end only)',
        default: 5,
      },
    }),
  outputTokenFile: z
    .string()
    .min(1)
    .optional()
    .describe('file holding the bearer token of the live output endpoint')
    .meta({
      option: {
        flag: 'output-token-file',
        env: 'RDEV_OUTPUT_TOKEN_FILE',
        help: "file holding the token the shim presents to read running items' output live from /output on --health-addr (read at each request; unset: no live output, the shim follows the output tail in status)",
      },
    }),
  outputHost: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be an IP address or a DNS name')
    .optional()
    .describe('address at which the shim reaches this worker')
    .meta({
      option: {
        flag: 'output-host',
        env: 'RDEV_OUTPUT_HOST',
        help: "IP address or DNS name at which the shim reaches this worker's --health-addr port for live output; http://<host>:<port> is published on its heartbeat Lease (e.g. $(POD_IP); default: the --health-addr host when it names one)",
      },
    }),
  commands: z
    .object({
      build: z
        .string()
        .optional()
        .meta({
          option: {
            flag: 'build-command',
            env: 'RDEV_BUILD_COMMAND',
            help: 'shell command for build items without a command, when the Project has no CI',
          },
        }),
      test: z
        .string()
        .optional()
        .meta({
          option: {
            flag: 'test-command',
            env: 'RDEV_TEST_COMMAND',
            help: 'shell command for test items without a command, when the Project has no CI',
          },
        }),
      deploy: z
        .string()
        .optional()
        .meta({
          option: {
            flag: 'deploy-command',
            env: 'RDEV_DEPLOY_COMMAND',
            help: 'shell command for deploy items without a command, when the Project has no CI',
          },
        }),
    })
    .default({})
    .describe('shell commands for build, test and deploy items that give none'),
  ci: z
    .object({
      url: z
        .string()
        .url()
        .optional()
        .meta({
          option: {
            flag: 'woodpecker-url',
            env: 'RDEV_WOODPECKER_URL',
            help: 'root URL of Woodpecker: build, test and deploy items without a command run the Project pipeline there',
          },
        }),
      tokenFile: z
        .string()
        .min(1)
        .optional()
        .meta({
          option: {
            flag: 'woodpecker-token-file',
            env: 'RDEV_WOODPECKER_TOKEN_FILE',
            help: 'file holding the Woodpecker API token (read at each use: a rotated mounted Secret is picked up)',
          },
        }),
      pollSeconds: z
        .number()
        .min(0.1)
        .max(60)
        .meta({
          option: {
            flag: 'pipeline-poll-seconds',
            env: 'RDEV_PIPELINE_POLL_SECONDS',
            help: 'how often a running CI pipeline is looked at',
            default: 2,
          },
        }),
    })
    .describe('Woodpecker, for build, test and deploy items run as the Project pipeline'),
  healthAddr: healthAddrField,
  logLevel: logLevelField,
});

export type WorkerConfig = z.infer<typeof workerConfig>;

/** Every option of `rdev worker`, in --help order, and the loader of its configuration. */
export const { options: WORKER_OPTIONS, load: loadWorkerConfig } = commandOptions(workerConfig);
