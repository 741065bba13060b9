// The layers of rdev, bottom to top; a module may import its own layer and the layers below it.
//   runtime      the Kubernetes controller runtime: client, informers, work queue, leader election
//   api          rdev's kinds: zod schemas, CRDs, resources and constants
//   shared       what the operator, the worker and the shim all use: pod exec, the pool view,
//                Secrets, phase predicates, webhook subscriptions, options
//   domain       config, naming, agents, images, queue/, templates/, providers/, webhooks/
//   controllers  one folder per kind
//   entry points the operator's wiring (cli/operator.ts), worker/, the shim (api-shim/src)
//   cli          the composition root: the only place that knows every entry point
// `make lint` runs this; test/unit/layers.test.ts proves a planted violation fails it.
const op = '^operator/src/';
const RUNTIME = `${op}runtime/`;
const API = `${op}api/`;
const SHARED = `${op}shared/`;
const DOMAIN = `${op}(config|naming|agents|images)\\.ts$|${op}(queue|templates|providers|webhooks)/`;
const CONTROLLERS = `${op}controllers/`;
const WORKER = `${op}worker/`;
const SHIM = '^api-shim/src/';
const CLI = `${op}cli/`;

const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: break it by moving what both need one layer down.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    forbid('runtime-is-the-floor', 'The runtime knows Kubernetes, not rdev.', RUNTIME, [API, SHARED, DOMAIN, CONTROLLERS, WORKER, SHIM, CLI].join('|')),
    forbid('api-above-runtime-only', 'The kinds depend on nothing of the operator.', API, [SHARED, DOMAIN, CONTROLLERS, WORKER, SHIM, CLI].join('|')),
    forbid('shared-below-entry-points', 'The shared surface serves the operator, the worker and the shim alike.', SHARED, [DOMAIN, CONTROLLERS, WORKER, SHIM, CLI].join('|')),
    forbid('domain-below-controllers', 'Providers, the queue and templates are used by controllers, never the reverse.', DOMAIN, [CONTROLLERS, WORKER, SHIM, CLI].join('|')),
    forbid('controllers-below-entry-points', 'Controllers are wired by the operator entry point.', CONTROLLERS, [WORKER, SHIM, CLI].join('|')),
    forbid('worker-keeps-to-itself', "The worker uses the shared surface, not the controllers' or the shim's internals.", WORKER, [CONTROLLERS, SHIM, CLI].join('|')),
    forbid(
      'shim-uses-the-surface',
      'The shim reads and writes the API: it imports api/, the runtime and the shared surface only.',
      SHIM,
      `${op}(?!api/|runtime/|shared/)`,
    ),
    forbid('cli-is-the-root', 'Only the composition root knows every entry point; nothing imports it.', `^(operator|api-shim)/src/(?!cli/)`, CLI),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // TypeScript 7 has no compiler API yet: swc parses the sources.
    parser: 'swc',
  },
};
