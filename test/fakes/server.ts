// The HTTP side every fake shares: a node:http server on 127.0.0.1 and a free port, that logs each
// request, applies injected faults, and hands the rest to the fake's synchronous handler (state
// lives in memory, so a request is handled atomically, as one transaction of the real service).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, type RequestRecord } from './faults.ts';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The raw body ('' when there is none). */
  text: string;
}

export interface FakeReply {
  status: number;
  /** A string is sent as text/plain, anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeServerOptions {
  /** Synchronous where it can be (atomic, like one transaction); async only to ask elsewhere. */
  handle(request: FakeRequest): FakeReply | Promise<FakeReply>;
  /** The fake's own error format, for injected statuses. */
  faultReply(status: number, message: string | undefined): FakeReply;
  faults: FaultInjector;
  log: RequestRecord[];
  /** Called first on every request: a test's hook to change state at a precise moment (races). */
  before?(request: FakeRequest): void;
}

export interface FakeServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;

export async function startFakeServer(options: FakeServerOptions): Promise<FakeServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const request: FakeRequest = {
        method: (req.method ?? 'GET').toUpperCase(),
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        headers: req.headers,
        text: Buffer.concat(chunks).toString('utf8'),
      };
      const record: RequestRecord = {
        method: request.method,
        path: request.path,
        query: groupQuery(url.searchParams),
        applied: false,
        body: parseOrUndefined(request.text),
      };
      options.log.push(record);
      options.before?.(request);

      const send = (reply: FakeReply) => {
        record.status = reply.status;
        const isText = typeof reply.body === 'string';
        const payload = reply.body === undefined ? '' : isText ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status, {
          'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json',
          ...reply.headers,
        });
        res.end(payload);
      };
      const handle = async (): Promise<FakeReply> => {
        record.applied = true;
        try {
          return await options.handle(request);
        } catch (err) {
          // a bug in the fake: answer as the service would on an internal error, and say why
          return options.faultReply(500, `fake: ${err instanceof Error ? err.message : String(err)}`);
        }
      };

      const fault = options.faults.take(request.method, request.path);
      if (!fault) return void handle().then(send);
      const { response } = fault;
      if ('hang' in response) {
        record.fault = 'hang';
        return; // closeAllConnections() releases it
      }
      if ('reset' in response) {
        record.fault = 'reset';
        req.socket.destroy();
        return;
      }
      record.fault = 'status';
      const reply = options.faultReply(response.status, response.message);
      if (response.retryAfterSeconds !== undefined) {
        reply.headers = { ...reply.headers, 'retry-after': String(response.retryAfterSeconds) };
      }
      if (fault.afterEffect) void handle().then(() => send(reply));
      else send(reply);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // hung requests and idle keep-alive sockets
      }),
  };
}

function groupQuery(params: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of params) out[k] = [...(out[k] ?? []), v];
  return out;
}

function parseOrUndefined(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Parses a JSON body; undefined when it is empty, an Error when it is not JSON. */
export function jsonBody(request: FakeRequest): unknown {
  if (request.text.trim() === '') return undefined;
  try {
    return JSON.parse(request.text);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** The bearer token of the request, if it has one. */
export function bearerToken(request: FakeRequest): string | undefined {
  const header = request.headers.authorization;
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * What every fake service has besides its own state and routes: the faults to inject, the log of
 * requests, a hook run before each one, its URL once it listens, and close().
 */
export abstract class FakeService {
  readonly faults = new FaultInjector();
  readonly requests: RequestRecord[] = [];
  /** Runs before each request is handled: set it to make something happen at that moment. */
  onRequest: ((request: { method: string; path: string }) => void) | undefined;
  /** Where its API is: the server's origin, and the API's base path if it has one. */
  url = '';
  #close: () => Promise<void> = async () => undefined;

  /** Serves `handle` on a free port, answering injected faults with `faultReply`. */
  protected async listen(
    handle: FakeServerOptions['handle'],
    faultReply: FakeServerOptions['faultReply'],
    basePath = '',
  ): Promise<void> {
    const server = await startFakeServer({
      handle,
      faultReply,
      faults: this.faults,
      log: this.requests,
      before: (req) => this.onRequest?.({ method: req.method, path: req.path }),
    });
    this.url = `${server.origin}${basePath}`;
    this.#close = server.close;
  }

  close(): Promise<void> {
    return this.#close();
  }
}
