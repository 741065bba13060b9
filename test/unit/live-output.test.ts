// Live output: the frames and ids shared by the worker and the shim, an attempt's bounded buffer
// of numbered lines with resume after a line, and the worker's /output endpoint on a loopback port.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { unsentText } from '../../api-shim/src/routes/output.ts';
import {
  bearerMatches,
  decodeFrame,
  encodeFrame,
  FrameReader,
  type OutputFrame,
  outputBaseURL,
  outputEventId,
  outputRequestURL,
  parseOutputEventId,
  parseOutputRequest,
} from '../../operator/src/shared/live-output.ts';
import { AttemptOutput, LiveOutput } from '../../operator/src/worker/live-output.ts';
import { advertisedOutputURL, serveOutput } from '../../operator/src/worker/output-server.ts';

const limits = { maxLines: 100, maxBytes: 10_000, maxLineChars: 1000 };
const texts = (frames: OutputFrame[]) => frames.map((f) => (f.type === 'line' ? f.text : `<${f.type}>`));

describe('the live output protocol', () => {
  it('encodes frames as lines and reads them back across chunk boundaries', () => {
    const frames: OutputFrame[] = [
      { type: 'line', seq: 1, stream: 'stdout', text: 'héllo ✓' },
      { type: 'gap', after: 1, next: 5 },
      { type: 'line', seq: 5, stream: 'stderr', text: '' },
      { type: 'end' },
    ];
    const bytes = Buffer.from(`\n${frames.map(encodeFrame).join('\n')}`);
    const reader = new FrameReader();
    const read: OutputFrame[] = [];
    // One byte at a time: multi-byte characters and frames are split everywhere.
    for (let i = 0; i < bytes.length; i++) read.push(...reader.push(bytes.subarray(i, i + 1)));
    expect(read).toEqual(frames);
    expect(decodeFrame('   ')).toBeUndefined();
    expect(() => decodeFrame('{"type":"line","seq":0,"stream":"stdout","text":"x"}')).toThrow();
    expect(() => decodeFrame('not json')).toThrow();
  });

  it('names a line <attempt>:<seq> and reads only such ids back', () => {
    expect(outputEventId(2, 17)).toBe('2:17');
    expect(parseOutputEventId('2:17')).toEqual({ attempt: 2, seq: 17 });
    expect(parseOutputEventId(' 1:0 ')).toEqual({ attempt: 1, seq: 0 });
    for (const id of [undefined, '', '17', '0:3', '1:-1', 'a:1', '1:2:3', '1:99999999999999999'])
      expect(parseOutputEventId(id), String(id)).toBeUndefined();
  });

  it('takes only plain http(s) base URLs from a Lease, and builds requests under them', () => {
    for (const bad of [
      undefined,
      '',
      'not a url',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'http://user:pw@10.0.0.1:8081',
      'http://10.0.0.1:8081/?x=1',
      'http://10.0.0.1:8081/#x',
      `http://h/${'a'.repeat(3000)}`,
    ])
      expect(outputBaseURL(bad), String(bad)).toBeUndefined();
    const item = { namespace: 'team-a', name: 'item.1' };
    const base = outputBaseURL('http://10.0.0.1:8081') as URL;
    expect(outputRequestURL(base, item, 2, 5).href).toBe(
      'http://10.0.0.1:8081/output/team-a/item.1?attempt=2&after=5',
    );
    const prefixed = outputBaseURL('https://workers.example/w-0') as URL;
    expect(outputRequestURL(prefixed, item, 1, 0).href).toBe(
      'https://workers.example/w-0/output/team-a/item.1?attempt=1&after=0',
    );
  });

  it('parses what the worker is asked for', () => {
    expect(parseOutputRequest('/output/ns/name?attempt=3&after=10')).toEqual({
      namespace: 'ns',
      name: 'name',
      attempt: 3,
      after: 10,
    });
    expect(parseOutputRequest('/output/ns/name?attempt=1')).toMatchObject({ after: 0 });
    expect(parseOutputRequest('/healthz')).toBeUndefined();
    expect(parseOutputRequest('/outputs/x')).toBeUndefined();
    for (const bad of [
      '/output/ns',
      '/output/ns/name',
      '/output/ns/name?attempt=0',
      '/output/ns/name?attempt=1&after=-1',
      '/output/ns/name?attempt=x',
      '/output/ns/a/b?attempt=1',
      '/output/%E0%A4%A/name?attempt=1',
    ])
      expect(parseOutputRequest(bad), bad).toBe('invalid');
  });

  it('checks the bearer token', () => {
    expect(bearerMatches('Bearer s3cret', 's3cret')).toBe(true);
    expect(bearerMatches('bearer s3cret', 's3cret')).toBe(true);
    for (const header of [
      undefined,
      '',
      's3cret',
      'Bearer',
      'Bearer s3cre',
      'Bearer s3cret2',
      'Basic s3cret',
    ])
      expect(bearerMatches(header, 's3cret'), String(header)).toBe(false);
  });

  it('advertises --output-host, else the health address when it names a host, on the health port', () => {
    expect(advertisedOutputURL(undefined, '127.0.0.1', 4321)).toBe('http://127.0.0.1:4321');
    expect(advertisedOutputURL(undefined, '::1', 4321)).toBe('http://[::1]:4321');
    expect(advertisedOutputURL(undefined, '0.0.0.0', 8081)).toBeUndefined();
    expect(advertisedOutputURL(undefined, '::', 8081)).toBeUndefined();
    expect(advertisedOutputURL('10.1.2.3', '0.0.0.0', 8081)).toBe('http://10.1.2.3:8081');
    expect(advertisedOutputURL('fd00::7', '::', 8081)).toBe('http://[fd00::7]:8081');
    expect(advertisedOutputURL('w-0.workers.rdev-system.svc', '0.0.0.0', 8081)).toBe(
      'http://w-0.workers.rdev-system.svc:8081',
    );
  });
});

describe("an attempt's output", () => {
  it('numbers lines from 1 and sends those after a line, then live ones, then end', () => {
    const out = new AttemptOutput(limits);
    out.append('one', 'stdout');
    out.append('two', 'stderr');
    const got: OutputFrame[] = [];
    const unsubscribe = out.follow(1, (f) => got.push(f));
    expect(got).toEqual([{ type: 'line', seq: 2, stream: 'stderr', text: 'two' }]);
    out.append('three', 'stdout');
    expect(texts(got)).toEqual(['two', 'three']);
    unsubscribe();
    out.append('four', 'stdout');
    expect(texts(got)).toEqual(['two', 'three']);
    expect(out.lastSeq).toBe(4);
  });

  it('resumes without repeats or gaps, however the reader reconnects', () => {
    const out = new AttemptOutput(limits);
    const seen: number[] = [];
    let last = 0;
    let unsubscribe = () => {};
    for (let i = 1; i <= 50; i++) {
      if (i % 7 === 0) {
        unsubscribe();
        unsubscribe = out.follow(last, (f) => {
          if (f.type === 'line') {
            seen.push(f.seq);
            last = f.seq;
          }
        });
      }
      out.append(`line ${i}`, 'stdout');
    }
    unsubscribe();
    const rest = out.follow(last, (f) => f.type === 'line' && seen.push(f.seq));
    rest();
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('holds a bounded number of lines and bytes, and tells a reader behind it of the gap', () => {
    const out = new AttemptOutput({ maxLines: 3, maxBytes: 1000, maxLineChars: 100 });
    for (let i = 1; i <= 5; i++) out.append(`l${i}`, 'stdout');
    expect(out.firstSeq).toBe(3);
    const got: OutputFrame[] = [];
    out.follow(0, (f) => got.push(f));
    expect(got[0]).toEqual({ type: 'gap', after: 0, next: 3 });
    expect(texts(got)).toEqual(['<gap>', 'l3', 'l4', 'l5']);

    const bytes = new AttemptOutput({ maxLines: 100, maxBytes: 10, maxLineChars: 100 });
    bytes.append('aaaa', 'stdout');
    bytes.append('bbbb', 'stdout');
    bytes.append('cccc', 'stdout');
    expect(bytes.firstSeq).toBe(2);
    // A line over the byte limit on its own is still held: the newest line always is.
    bytes.append('x'.repeat(50), 'stdout');
    expect(bytes.firstSeq).toBe(4);
  });

  it('cuts very long lines', () => {
    const out = new AttemptOutput({ maxLines: 10, maxBytes: 10_000, maxLineChars: 5 });
    out.append('0123456789', 'stdout');
    const got: OutputFrame[] = [];
    out.follow(0, (f) => got.push(f));
    expect(texts(got)).toEqual(['01234…']);
  });

  it('ends once: followers get end, later readers get the lines and end at once', () => {
    const onEnd = vi.fn();
    const out = new AttemptOutput(limits, onEnd);
    out.append('a', 'stdout');
    const live: OutputFrame[] = [];
    out.follow(0, (f) => live.push(f));
    out.end();
    out.end();
    out.append('ignored', 'stdout');
    expect(texts(live)).toEqual(['a', '<end>']);
    expect(onEnd).toHaveBeenCalledTimes(1);
    const late: OutputFrame[] = [];
    out.follow(1, (f) => late.push(f));
    expect(texts(late)).toEqual(['<end>']);
  });

  it('is kept a while after it ended, by item and attempt', () => {
    vi.useFakeTimers();
    try {
      const live = new LiveOutput({ keepMs: 1000 });
      const first = live.open('ns', 'item', 1);
      expect(live.get('ns', 'item', 1)).toBe(first);
      expect(live.get('ns', 'item', 2)).toBeUndefined();
      // The same attempt opened again (a replay): the old one ends, the new one replaces it.
      const again = live.open('ns', 'item', 1);
      expect(first.ended).toBe(true);
      expect(live.get('ns', 'item', 1)).toBe(again);
      vi.advanceTimersByTime(5000);
      expect(live.get('ns', 'item', 1)).toBe(again);
      again.end();
      vi.advanceTimersByTime(999);
      expect(live.get('ns', 'item', 1)).toBe(again);
      vi.advanceTimersByTime(1);
      expect(live.get('ns', 'item', 1)).toBeUndefined();
      expect(live.size).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('after a live stream broke off', () => {
  it('finds in the tail what was not sent yet', () => {
    expect(unsentText('', 'a\nb\n', false)).toBe('a\nb\n');
    expect(unsentText('a\nb\n', 'a\nb\nc\n', false)).toBe('c\n');
    // The window moved past the start of what was sent.
    expect(unsentText('a\nb\n', 'b\nc\nd\n', false)).toBe('c\nd\n');
    // The tail is behind what was sent: wait for the next one, unless it is the last.
    expect(unsentText('a\nb\nc\n', 'a\nb\n', false)).toBeUndefined();
    expect(unsentText('a\nb\nc\n', 'x\ny\n', true)).toBe('x\ny\n');
    // Only whole lines count as an overlap: a tail starting with the last character is no match.
    expect(unsentText('a\nxb', 'b\nc\n', false)).toBeUndefined();
  });
});

describe("the worker's /output endpoint", () => {
  const live = new LiveOutput();
  let server: Server;
  let base = '';
  let tokenFile = '';

  beforeAll(async () => {
    tokenFile = join(await mkdtemp(join(tmpdir(), 'rdev-output-')), 'token');
    await writeFile(tokenFile, 'tok-1\n');
    const log = pino({ level: 'silent' });
    server = createServer((req, res) => {
      if (!serveOutput({ live, tokenFile, log, keepAliveMs: 50 }, req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const get = (path: string, token: string | null = 'tok-1') =>
    fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  /** The frames of a response until `end` (or the stream closes). */
  async function framesOf(response: Response, onFrame?: (f: OutputFrame) => void): Promise<OutputFrame[]> {
    const reader = new FrameReader();
    const frames: OutputFrame[] = [];
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      for (const frame of reader.push(chunk)) {
        frames.push(frame);
        onFrame?.(frame);
      }
    }
    return frames;
  }

  it('refuses requests without the token, and says so before anything else', async () => {
    expect((await get('/output/ns/a?attempt=1', null)).status).toBe(401);
    expect((await get('/output/ns/a?attempt=1', 'wrong')).status).toBe(401);
    expect((await get('/output/ns?attempt=1', 'wrong')).status).toBe(401);
    expect((await get('/output/ns?attempt=1')).status).toBe(400);
    expect((await get('/output/ns/unknown?attempt=1')).status).toBe(404);
    expect((await get('/healthz')).status).toBe(404);
  });

  it('picks up a rotated token', async () => {
    await writeFile(tokenFile, 'tok-2');
    try {
      expect((await get('/output/ns/unknown?attempt=1', 'tok-1')).status).toBe(401);
      expect((await get('/output/ns/unknown?attempt=1', 'tok-2')).status).toBe(404);
    } finally {
      await writeFile(tokenFile, 'tok-1');
    }
  });

  it('streams the held lines, then live ones with keep-alives, then the end', async () => {
    const out = live.open('ns', 'stream', 1);
    out.append('first', 'stdout');
    out.append('second', 'stdout');
    const response = await get('/output/ns/stream?attempt=1&after=1');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const frames = framesOf(response, (f) => {
      if (f.type === 'line' && f.text === 'second') setTimeout(() => out.append('third', 'stderr'), 120);
      if (f.type === 'line' && f.text === 'third') out.end();
    });
    expect(await frames).toEqual([
      { type: 'line', seq: 2, stream: 'stdout', text: 'second' },
      { type: 'line', seq: 3, stream: 'stderr', text: 'third' },
      { type: 'end' },
    ]);
    // Ended, still held: a reader resuming gets the rest and the end.
    expect(texts(await framesOf(await get('/output/ns/stream?attempt=1&after=2')))).toEqual([
      'third',
      '<end>',
    ]);
  });

  it('stops following a reader that went away', async () => {
    const out = live.open('ns', 'gone', 1);
    const controller = new AbortController();
    const response = await fetch(`${base}/output/ns/gone?attempt=1`, {
      headers: { authorization: 'Bearer tok-1' },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    controller.abort();
    await new Promise((r) => setTimeout(r, 100));
    // Appending after the reader left neither throws nor keeps it.
    out.append('after', 'stdout');
    out.end();
    expect(out.ended).toBe(true);
  });
});
