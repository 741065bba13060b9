// The live output of a running WorkItem attempt, between the worker that runs it and the shim
// that streams it to clients. status.outputTail is a summary written every few seconds; the
// worker also keeps each attempt's recent lines in memory, numbered 1, 2, 3… per attempt, and
// serves them on its health address:
//
//   GET /output/<namespace>/<name>?attempt=<n>&after=<seq>   Authorization: Bearer <token>
//
// answers newline-delimited JSON frames: the held lines after `seq`, then each new line as it is
// printed, then `end` once the attempt has ended (a blank line now and then keeps the connection
// alive). The worker advertises the base URL of that endpoint on its heartbeat Lease; a Lease is
// written only by its worker (the chart's worker Role names each replica's Lease), so the shim
// only ever connects to an address a worker published, and with a token only workers and the
// shim hold. A client resumes after the last line it got: SSE ids are `<attempt>:<seq>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/** On a worker's Lease: base URL of its /output endpoint (absent: it serves no live output). */
export const OUTPUT_URL_ANNOTATION = 'rdev.dev/output-url';

export const OUTPUT_STREAMS = ['stdout', 'stderr'] as const;
export type OutputStream = (typeof OUTPUT_STREAMS)[number];

const seq = z.number().int().min(0);

/** One frame of the /output stream. */
export const outputFrame = z.discriminatedUnion('type', [
  /** A printed line (without its newline). */
  z.object({ type: z.literal('line'), seq: seq.min(1), stream: z.enum(OUTPUT_STREAMS), text: z.string() }),
  /** Lines after `after` and before `next` are no longer held (the buffer is bounded). */
  z.object({ type: z.literal('gap'), after: seq, next: seq }),
  /** The attempt ended: every line it printed was sent. */
  z.object({ type: z.literal('end') }),
]);
export type OutputFrame = z.infer<typeof outputFrame>;
export type OutputLine = Extract<OutputFrame, { type: 'line' }>;

export const OUTPUT_CONTENT_TYPE = 'application/x-ndjson';

/** A frame as a line of the stream. */
export const encodeFrame = (frame: OutputFrame): string => `${JSON.stringify(frame)}\n`;

/** A line of the stream as a frame; undefined for a keep-alive (blank) line. Throws on anything else. */
export function decodeFrame(line: string): OutputFrame | undefined {
  if (!line.trim()) return undefined;
  return outputFrame.parse(JSON.parse(line));
}

/** Splits a byte stream of frames into lines, across chunks. */
export class FrameReader {
  private readonly decoder = new TextDecoder();
  private partial = '';

  /** The frames completed by `chunk`. */
  push(chunk: Uint8Array): OutputFrame[] {
    const lines = (this.partial + this.decoder.decode(chunk, { stream: true })).split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map(decodeFrame).filter((f): f is OutputFrame => f !== undefined);
  }
}

/** Where an attempt's output is: the SSE event id of its line `seq`. */
export const outputEventId = (attempt: number, seq: number): string => `${attempt}:${seq}`;

/** An id made by outputEventId; undefined for anything else (e.g. an id of another stream). */
export function parseOutputEventId(id: string | undefined): { attempt: number; seq: number } | undefined {
  const match = /^(\d{1,9}):(\d{1,15})$/.exec(id?.trim() ?? '');
  if (!match) return undefined;
  const attempt = Number(match[1]);
  const seq = Number(match[2]);
  return attempt >= 1 && Number.isSafeInteger(seq) ? { attempt, seq } : undefined;
}

/**
 * A base URL a worker advertised, if usable: http or https, no credentials, query or fragment.
 * Anything else is ignored, so a bad annotation only costs the live stream.
 */
export function outputBaseURL(text: string | undefined): URL | undefined {
  if (!text || text.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.search || url.hash) return undefined;
  return url;
}

/** The request for an attempt's lines after `after`, under a worker's base URL. */
export function outputRequestURL(
  base: URL,
  item: { namespace: string; name: string },
  attempt: number,
  after: number,
): URL {
  const root = base.pathname.endsWith('/') ? base : new URL(`${base.pathname}/`, base);
  const url = new URL(`output/${encodeURIComponent(item.namespace)}/${encodeURIComponent(item.name)}`, root);
  url.searchParams.set('attempt', String(attempt));
  url.searchParams.set('after', String(after));
  return url;
}

/** The parts of a request path and query the worker serves: undefined when it is not /output. */
export function parseOutputRequest(
  path: string,
): { namespace: string; name: string; attempt: number; after: number } | 'invalid' | undefined {
  const url = new URL(path, 'http://worker');
  const match = /^\/output\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (!match) return url.pathname.startsWith('/output/') ? 'invalid' : undefined;
  const attempt = Number(url.searchParams.get('attempt'));
  const after = Number(url.searchParams.get('after') ?? 0);
  if (!Number.isSafeInteger(attempt) || attempt < 1 || !Number.isSafeInteger(after) || after < 0)
    return 'invalid';
  try {
    return {
      namespace: decodeURIComponent(match[1] ?? ''),
      name: decodeURIComponent(match[2] ?? ''),
      attempt,
      after,
    };
  } catch {
    return 'invalid';
  }
}

/** The shared bearer token, read from its file at each use (a rotated mounted Secret is picked up). */
export async function readOutputToken(file: string): Promise<string> {
  const token = (await readFile(file, 'utf8')).trim();
  if (!token) throw new Error(`the output token file ${file} is empty`);
  return token;
}

/** Whether `header` (an Authorization header) carries `token`, compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (\S+)$/i.exec(header ?? '')?.[1];
  if (!given) return false;
  // Hashes have equal lengths, as timingSafeEqual needs; the token's length is not revealed.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}
