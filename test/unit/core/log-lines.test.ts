import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, demultiplex, demultiplexLines } from '../../../src/infra/docker/log-lines.js';

/** One frame of Docker's multiplexed stream: type byte, three zero bytes, big-endian size, payload. */
function frame(stream: 0 | 1 | 2, payload: string | Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

function collect(chunks: string[], flush = true): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  for (const chunk of chunks) splitter.push(chunk);
  if (flush) splitter.flush();
  return lines;
}

describe('demultiplex', () => {
  it('decodes a stdout frame', () => {
    const frames = demultiplex(frame(1, 'hello\n'));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.stream).toBe('stdout');
    expect(frames[0]?.data.toString()).toBe('hello\n');
  });

  it('decodes a stderr frame', () => {
    const frames = demultiplex(frame(2, 'oops\n'));
    expect(frames.map((f) => [f.stream, f.data.toString()])).toEqual([['stderr', 'oops\n']]);
  });

  it('treats stdin (type 0) frames as stdout', () => {
    expect(demultiplex(frame(0, 'in')).map((f) => [f.stream, f.data.toString()])).toEqual([['stdout', 'in']]);
  });

  it('decodes several frames in order, stdout and stderr interleaved', () => {
    const buffer = Buffer.concat([frame(1, 'one\n'), frame(2, 'two\n'), frame(1, 'three'), frame(1, ' and more\n')]);
    expect(demultiplex(buffer).map((f) => [f.stream, f.data.toString()])).toEqual([
      ['stdout', 'one\n'],
      ['stderr', 'two\n'],
      ['stdout', 'three'],
      ['stdout', ' and more\n'],
    ]);
  });

  it('reads sizes as 32-bit big-endian (a payload over 255 and over 65535 bytes)', () => {
    const big = 'x'.repeat(70_000);
    const frames = demultiplex(Buffer.concat([frame(1, 'y'.repeat(300)), frame(2, big)]));
    expect(frames.map((f) => f.data.length)).toEqual([300, 70_000]);
    expect(frames[1]?.stream).toBe('stderr');
  });

  it('keeps empty frames', () => {
    expect(demultiplex(Buffer.concat([frame(1, ''), frame(2, 'a')])).map((f) => f.data.toString())).toEqual(['', 'a']);
  });

  it('returns no frames for an empty buffer', () => {
    expect(demultiplex(Buffer.alloc(0))).toEqual([]);
  });

  it('returns a raw (TTY) buffer as one stdout frame', () => {
    const raw = Buffer.from('plain tty output\nsecond line\n');
    const frames = demultiplex(raw);
    expect(frames).toHaveLength(1);
    expect(frames[0]?.stream).toBe('stdout');
    expect(frames[0]?.data.equals(raw)).toBe(true);
  });

  it('returns a short raw buffer (under 8 bytes) as stdout', () => {
    expect(demultiplex(Buffer.from('hi\n')).map((f) => [f.stream, f.data.toString()])).toEqual([['stdout', 'hi\n']]);
  });

  it('does not take a buffer whose stream byte is 1 but whose padding is not zero for a frame', () => {
    const raw = Buffer.from([1, 0x41, 0, 0, 0, 0, 0, 1, 0x42]);
    expect(demultiplex(raw)).toEqual([{ stream: 'stdout', data: raw }]);
  });

  it('does not take a buffer starting with a byte over 2 for a frame', () => {
    const raw = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 1]), Buffer.from('z')]);
    expect(demultiplex(raw)).toEqual([{ stream: 'stdout', data: raw }]);
  });

  it('keeps the available part of a truncated last frame', () => {
    const whole = frame(1, 'complete\n');
    const truncated = frame(2, 'truncated payload').subarray(0, 8 + 5);
    expect(demultiplex(Buffer.concat([whole, truncated])).map((f) => [f.stream, f.data.toString()])).toEqual([
      ['stdout', 'complete\n'],
      ['stderr', 'trunc'],
    ]);
  });

  it('round-trips any sequence of frames (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom<1 | 2>(1, 2), fc.uint8Array({ maxLength: 300 })), { minLength: 1, maxLength: 10 }), (parts) => {
        const buffer = Buffer.concat(parts.map(([stream, data]) => frame(stream, Buffer.from(data))));
        const frames = demultiplex(buffer);
        expect(frames.map((f) => f.stream)).toEqual(parts.map(([stream]) => (stream === 2 ? 'stderr' : 'stdout')));
        expect(frames.map((f) => Buffer.from(f.data).toString('hex'))).toEqual(parts.map(([, data]) => Buffer.from(data).toString('hex')));
      }),
    );
  });
});

describe('demultiplexLines', () => {
  it('splits the frames of both streams into lines', () => {
    const buffer = Buffer.concat([frame(1, 'line one\nline '), frame(1, 'two\r\n'), frame(2, 'error line\n'), frame(1, 'no newline')]);
    expect(demultiplexLines(buffer)).toEqual(['line one', 'line two', 'error line', 'no newline']);
  });

  it('splits raw TTY output into lines', () => {
    expect(demultiplexLines(Buffer.from('a\r\nb\nc'))).toEqual(['a', 'b', 'c']);
  });

  it('keeps a multi-byte character split across two frames', () => {
    const text = Buffer.from('größe €\n', 'utf8');
    // Cut inside the two-byte "ö" and the three-byte "€".
    const buffer = Buffer.concat([frame(1, text.subarray(0, 3)), frame(1, text.subarray(3, 9)), frame(1, text.subarray(9))]);
    expect(demultiplexLines(buffer)).toEqual(['größe €']);
  });

  it('returns nothing for an empty buffer', () => {
    expect(demultiplexLines(Buffer.alloc(0))).toEqual([]);
  });
});

describe('LineSplitter', () => {
  it('emits complete lines at once and keeps the rest pending', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push('first\nsec');
    expect(lines).toEqual(['first']);
    splitter.push('ond\nthi');
    expect(lines).toEqual(['first', 'second']);
    splitter.flush();
    expect(lines).toEqual(['first', 'second', 'thi']);
  });

  it('joins a line across many chunk boundaries', () => {
    expect(collect(['a', 'b', 'c', '\n', 'd', 'e\n'])).toEqual(['abc', 'de']);
  });

  it('strips \\r of \\r\\n, also when the pair is split across chunks', () => {
    expect(collect(['one\r\ntwo\r', '\nthree\r\n'])).toEqual(['one', 'two', 'three']);
  });

  it('keeps a \\r that is not at the end of the line', () => {
    expect(collect(['progress 10%\rprogress 100%\n'])).toEqual(['progress 10%\rprogress 100%']);
  });

  it('keeps empty lines', () => {
    expect(collect(['\n\na\n\n'])).toEqual(['', '', 'a', '']);
  });

  it('flush emits nothing when no partial line is pending, and only once', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push('done\n');
    splitter.flush();
    splitter.flush();
    expect(lines).toEqual(['done']);
    splitter.push('tail');
    splitter.flush();
    splitter.flush();
    expect(lines).toEqual(['done', 'tail']);
  });

  it('flush strips a trailing \\r like a complete line', () => {
    expect(collect(['last line\r'])).toEqual(['last line']);
  });

  it('does not emit the partial line without flush', () => {
    expect(collect(['a\nb'], false)).toEqual(['a']);
  });

  it('gives the same lines however the text is chunked (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', '\n', '\r', '\r\n', 'xyz', ' ')), fc.array(fc.nat(), { maxLength: 6 }), (pieces, cuts) => {
        const text = pieces.join('');
        const points = [...new Set(cuts.map((c) => (text.length === 0 ? 0 : c % text.length)))].sort((a, b) => a - b);
        const chunks: string[] = [];
        let last = 0;
        for (const point of points) {
          chunks.push(text.slice(last, point));
          last = point;
        }
        chunks.push(text.slice(last));
        expect(collect(chunks)).toEqual(collect([text]));
      }),
    );
  });
});
