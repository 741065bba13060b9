// What each command does, in a line: `rdev --help` lists them without loading the commands, each
// of which loads what it runs (the shim its HTTP server, the operator its providers).
export const SUMMARIES = {
  operator: 'run the controllers (Projects, the WorkItem scheduler) against a cluster',
  shim: 'serve the REST API for bots and CI systems that hold an API key',
  worker: 'run WorkItems bound to this worker (one per worker pod)',
} as const;
