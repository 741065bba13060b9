// The REST shim for a test file: in this process, against the cluster under test, keeping its
// keys and webhooks in the file's namespace, listening on a free loopback port. `call` makes a
// request with a key; `stream` reads server-sent events.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { createShim, type RunningShim, type ShimSettings } from '../../../api-shim/src/shim.ts';
import { createLogger } from '../../../operator/src/runtime/logging.ts';
import { kubeConfig } from './kube.ts';

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: {
    data?: T;
    meta?: { requestId: string };
    error?: { code: string; message: string; details?: unknown };
  };
}

export interface ShimHandle {
  readonly url: string;
  readonly adminKey: string;
  readonly shim: RunningShim;
  call<T = unknown>(
    method: string,
    path: string,
    options?: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<Answer<T>>;
  /** The shim's log lines so far (JSON), to check what it writes. */
  readonly logs: string[];
  /** Creates a key with the admin key; returns the key itself. */
  key(scopes: string[], extra?: Record<string, unknown>): Promise<string>;
}

export interface SseEvent {
  event: string;
  id?: string;
  data: unknown;
}

/** Reads server-sent events from a fetch response until `until` says stop or the stream ends. */
export async function readEvents(
  response: Response,
  until: (events: SseEvent[]) => boolean = () => false,
): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reader = response.body?.getReader();
  if (!reader) return events;
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((l) => l && !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]),
      );
      if (fields.event === undefined) continue;
      events.push({
        event: fields.event,
        id: fields.id,
        data: fields.data ? JSON.parse(fields.data) : undefined,
      });
      if (until(events)) {
        await reader.cancel();
        return events;
      }
    }
  }
  return events;
}

export function useShim(
  namespace: () => string,
  settings: {
    rateLimit?: number;
    rateBurst?: number;
    workerNamespace?: () => string;
    /** The workers' output token file: /work/{id}/logs relays live output. */
    workerOutputTokenFile?: string;
    /** Blocked ranges webhook URLs may point into (a receiver on loopback: 127.0.0.1/32). */
    webhookAllowCIDRs?: string[];
    /** Any other settings of the shim. */
    extra?: Partial<ShimSettings>;
  } = {},
): ShimHandle {
  const state: { shim?: RunningShim; url?: string } = {};
  const adminKey = `rdev_${randomBytes(24).toString('base64url')}`;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      if (process.env.RDEV_TEST_LOG_LEVEL) process.stderr.write(chunk);
      done();
    },
  });
  beforeAll(async () => {
    const ns = namespace();
    state.shim = await createShim(
      kubeConfig(),
      {
        namespace: ns,
        namespaces: [ns],
        defaultNamespace: ns,
        workerNamespace: settings.workerNamespace?.() ?? ns,
        rateLimit: settings.rateLimit ?? 1000,
        rateBurst: settings.rateBurst ?? 1000,
        bodyLimit: 64 * 1024,
        trustProxy: 'false',
        bootstrapKey: adminKey,
        workerOutputTokenFile: settings.workerOutputTokenFile,
        webhookAllowCIDRs: settings.webhookAllowCIDRs,
        ...settings.extra,
      },
      createLogger({ level: 'info', name: 'rdev-shim', destination: sink }),
    );
    state.url = await state.shim.app.listen({ host: '127.0.0.1', port: 0 });
    await state.shim.context.cache.waitForSync();
  });
  afterAll(async () => {
    await state.shim?.close();
  });
  const handle: ShimHandle = {
    get url() {
      if (!state.url) throw new Error('the shim is not running');
      return state.url;
    },
    get shim() {
      if (!state.shim) throw new Error('the shim is not running');
      return state.shim;
    },
    adminKey,
    logs,
    async call(method, path, options = {}) {
      const key = options.key === undefined ? adminKey : options.key;
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const response = await fetch(`${handle.url}${path}`, { method, headers, body });
      const text = await response.text();
      let parsed: Answer['body'] = {};
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        parsed = { error: { code: 'not-json', message: text } };
      }
      return { status: response.status, headers: response.headers, body: parsed } as Answer<never>;
    },
    async key(scopes, extra = {}) {
      const answer = await handle.call<{ key: string; id: string }>('POST', '/keys', {
        body: { name: `test ${scopes.join(' ')}`.slice(0, 63), scopes, ...extra },
      });
      if (answer.status !== 201 || !answer.body.data)
        throw new Error(`key not made: ${JSON.stringify(answer.body)}`);
      const made = answer.body.data.key;
      // Usable once the shim's informer has seen its Secret.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (handle.shim.context.keys.get(answer.body.data.id)) return made;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('the new key never reached the key store');
    },
  };
  return handle;
}
