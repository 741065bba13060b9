// An attempt's output, as the worker handles it: split into lines per stream, tail kept for status.
import { describe, expect, it } from 'vitest';
import { LineSplitter, Tail } from '../../operator/src/worker/output.ts';

/** The last `max` bytes of `text`, starting at a character boundary. */
function expectedTail(text: string, max: number): string {
  const bytes = Buffer.from(text);
  let start = Math.max(0, bytes.length - max);
  while (start < bytes.length && ((bytes[start] as number) & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString();
}

describe('Tail', () => {
  it('keeps everything while under the limit', () => {
    const tail = new Tail(100);
    expect(tail.toString()).toBe('');
    tail.push('one\n');
    tail.push('two\n');
    expect(tail.toString()).toBe('one\ntwo\n');
  });

  it('keeps exactly the last bytes when one chunk is larger than the limit', () => {
    const tail = new Tail(10);
    tail.push('0123456789abcdefghij');
    expect(tail.toString()).toBe('abcdefghij');
  });

  it('keeps the last bytes across chunks, not just the last chunks', () => {
    const tail = new Tail(10);
    tail.push('aaaaaaaa');
    tail.push('bbbbbbbb');
    expect(tail.toString()).toBe('aabbbbbbbb');
    tail.push('cc');
    expect(tail.toString()).toBe('bbbbbbbbcc');
  });

  it('never starts in the middle of a character', () => {
    const tail = new Tail(4);
    tail.push('aé€'); // 1 + 2 + 3 bytes
    expect(tail.toString()).toBe('€');
    const wider = new Tail(5);
    wider.push('aé€');
    expect(wider.toString()).toBe('é€');
  });

  it('matches the last bytes of everything pushed, for many chunkings', () => {
    const pieces = ['x', 'yz', 'é', '€', '😀', 'line\n', '', 'abcdefghijklmnop', 'ü'];
    let seed = 7;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const max = 1 + next(24);
      const tail = new Tail(max);
      let all = '';
      for (let i = next(12); i > 0; i--) {
        const piece = Array.from({ length: next(4) }, () => pieces[next(pieces.length)]).join('');
        tail.push(piece);
        all += piece;
        const got = tail.toString();
        expect(got, `round ${round}, max ${max}`).toBe(expectedTail(all, max));
        expect(Buffer.byteLength(got)).toBeLessThanOrEqual(max);
      }
    }
  });
});

/** Two streams into one tail, as an attempt's stdout and stderr are. */
function streams(tailBytes = 4096) {
  const tail = new Tail(tailBytes);
  const lines: [string, 'stdout' | 'stderr'][] = [];
  const out = new LineSplitter(tail, (line) => lines.push([line, 'stdout']));
  const err = new LineSplitter(tail, (line) => lines.push([line, 'stderr']));
  const of = (stream: 'stdout' | 'stderr') => lines.filter(([, s]) => s === stream).map(([t]) => t);
  return { tail, lines, out, err, of };
}

describe('LineSplitter', () => {
  it('passes each line with its stream, a last line without newline included once the stream ends', () => {
    const s = streams();
    s.out.write(Buffer.from('out1\n'));
    s.err.write(Buffer.from('err1\n'));
    s.out.write(Buffer.from('out2\nno newline'));
    expect(s.of('stdout')).toEqual(['out1', 'out2']);
    s.out.end();
    s.err.end();
    expect(s.lines).toEqual([
      ['out1', 'stdout'],
      ['err1', 'stderr'],
      ['out2', 'stdout'],
      ['no newline', 'stdout'],
    ]);
    expect(s.tail.toString()).toBe('out1\nerr1\nout2\nno newline');
  });

  it('keeps empty lines and passes no line for an empty stream', () => {
    const s = streams();
    s.out.write(Buffer.from('a\n\nb\n'));
    s.out.end();
    s.err.end();
    expect(s.lines).toEqual([
      ['a', 'stdout'],
      ['', 'stdout'],
      ['b', 'stdout'],
    ]);
  });

  it('joins a line that arrives in many chunks and keeps only the tail', () => {
    const s = streams(100);
    for (let i = 0; i < 100; i++) s.out.write(Buffer.from('x'.repeat(2000)));
    s.out.write(Buffer.from('\nlast\n'));
    s.out.end();
    expect(s.lines.map(([t]) => t.length)).toEqual([200_000, 4]);
    expect(s.tail.toString()).toBe(`${'x'.repeat(94)}\nlast\n`);
  });

  it('keeps characters whole when a chunk ends inside one', () => {
    const s = streams();
    const euro = Buffer.from('€ euro\n');
    s.out.write(euro.subarray(0, 1));
    s.out.write(euro.subarray(1, 2));
    s.out.write(euro.subarray(2));
    s.out.end();
    expect(s.of('stdout')).toEqual(['€ euro']);
    expect(s.tail.toString()).toBe('€ euro\n');
  });

  it('passes on an incomplete character at the end of the stream as a replacement character', () => {
    const s = streams();
    s.err.write(Buffer.from([0x61, 0xe2, 0x82]));
    s.err.end();
    expect(s.of('stderr')).toEqual(['a\ufffd']);
  });
});
