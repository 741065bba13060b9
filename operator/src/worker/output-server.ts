// GET /output/<namespace>/<name>?attempt=<n>&after=<seq> on the worker's health address: an
// attempt's lines as newline-delimited JSON frames, held ones first, then live, ending with the
// attempt (protocol in shared/live-output.ts). The shim is its only client: every request must
// carry the bearer token of --output-token-file, read at each request so a rotated Secret is
// picked up. The token is never logged.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errorMessage } from '../shared/fields.ts';
import {
  bearerMatches,
  encodeFrame,
  OUTPUT_CONTENT_TYPE,
  parseOutputRequest,
  readOutputToken,
} from '../shared/live-output.ts';
import type { LiveOutput } from './live-output.ts';

export interface OutputEndpoint {
  live: LiveOutput;
  tokenFile: string;
  log: Logger;
  /** A blank line this often keeps idle connections (and the reader's idle timeout) alive. */
  keepAliveMs?: number;
}

/** A reader this far behind is cut off (it reconnects and resumes, or is told of a gap). */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * The base URL to advertise for the endpoint, on the health port: at --output-host, else at the
 * health address when it names a host (a wildcard address is no place to connect to), else none.
 */
export function advertisedOutputURL(
  outputHost: string | undefined,
  healthHost: string,
  port: number,
): string | undefined {
  const host = outputHost || (healthHost === '0.0.0.0' || healthHost === '::' ? '' : healthHost);
  if (!host) return undefined;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Answers a request for /output/…; false when the request is for something else. */
export function serveOutput(endpoint: OutputEndpoint, req: IncomingMessage, res: ServerResponse): boolean {
  const request = parseOutputRequest(req.url ?? '/');
  if (request === undefined) return false;
  answer(endpoint, request, req, res).catch((err) => {
    endpoint.log.warn({ err: errorMessage(err) }, 'output request failed');
    if (!res.headersSent) res.writeHead(500).end();
    else res.destroy();
  });
  return true;
}

async function answer(
  endpoint: OutputEndpoint,
  request: Exclude<ReturnType<typeof parseOutputRequest>, undefined>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== 'GET') {
    res.writeHead(405, { allow: 'GET' }).end();
    return;
  }
  let token: string;
  try {
    token = await readOutputToken(endpoint.tokenFile);
  } catch (err) {
    endpoint.log.warn(
      { err: errorMessage(err) },
      'the output token cannot be read: refusing output requests',
    );
    res.writeHead(503).end();
    return;
  }
  if (!bearerMatches(req.headers.authorization, token)) {
    res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    return;
  }
  if (request === 'invalid') {
    res.writeHead(400).end('expected /output/<namespace>/<name>?attempt=<n>&after=<seq>\n');
    return;
  }
  const output = endpoint.live.get(request.namespace, request.name, request.attempt);
  if (!output) {
    res.writeHead(404).end('this worker holds no output of that attempt\n');
    return;
  }
  res.writeHead(200, { 'content-type': OUTPUT_CONTENT_TYPE, 'cache-control': 'no-store' });
  res.flushHeaders();
  let finished = false;
  let unsubscribe: () => void = () => undefined;
  const keepAlive = setInterval(() => res.write('\n'), endpoint.keepAliveMs ?? 10_000);
  keepAlive.unref();
  const finish = () => {
    if (finished) return;
    finished = true;
    clearInterval(keepAlive);
    unsubscribe();
  };
  res.on('close', finish);
  unsubscribe = output.follow(request.after, (frame) => {
    if (finished) return;
    res.write(encodeFrame(frame));
    if (frame.type === 'end') {
      finish();
      res.end();
    } else if (res.writableLength > MAX_BUFFERED_BYTES) {
      finish();
      res.destroy();
    }
  });
  if (finished) unsubscribe();
}
