import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../../src/exec/frames.js';

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Feeds `chunks` and collects the bytes per stream, plus the order of stream switches. */
function decode(chunks: Buffer[]): { stdout: string; stderr: string } {
  const decoder = new FrameDecoder();
  const out: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  for (const chunk of chunks) for (const f of decoder.push(chunk)) out[f.stream].push(f.data);
  out.stdout.push(decoder.leftover());
  return { stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8') };
}

describe('FrameDecoder', () => {
  it('separates stdout and stderr frames in one chunk', () => {
    expect(decode([Buffer.concat([frame(1, 'out 1\n'), frame(2, 'err 1\n'), frame(1, 'out 2\n')])])).toEqual({ stdout: 'out 1\nout 2\n', stderr: 'err 1\n' });
  });

  it('hands out a payload before the frame is complete (no waiting for the rest or for a newline)', () => {
    const decoder = new FrameDecoder();
    const whole = frame(2, 'partial line without newline');
    expect(decoder.push(whole.subarray(0, 5))).toEqual([]);
    const first = decoder.push(whole.subarray(5, 15));
    expect(first).toEqual([{ stream: 'stderr', data: Buffer.from('partial') }]);
    expect(decoder.pendingBytes()).toBe(21);
    expect(decoder.push(whole.subarray(15))).toEqual([{ stream: 'stderr', data: Buffer.from(' line without newline') }]);
    expect(decoder.pendingBytes()).toBe(0);
  });

  it('decodes the same bytes however the stream is chunked', () => {
    const frames = fc.array(fc.tuple(fc.constantFrom(1, 2), fc.string({ maxLength: 40 })), { maxLength: 12 });
    fc.assert(
      fc.property(frames, fc.array(fc.nat(), { maxLength: 10 }), (items, cuts) => {
        const stream = Buffer.concat(items.map(([type, text]) => frame(type, text)));
        const points = [...new Set(cuts.map((c) => (stream.length === 0 ? 0 : c % stream.length)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let at = 0;
        for (const p of [...points, stream.length]) {
          chunks.push(stream.subarray(at, p));
          at = p;
        }
        expect(decode(chunks)).toEqual({
          stdout: items.filter(([t]) => t === 1).map(([, s]) => s).join(''),
          stderr: items.filter(([t]) => t === 2).map(([, s]) => s).join(''),
        });
      }),
    );
  });

  it('passes a stream that is not multiplexed (a TTY) through as stdout', () => {
    expect(decode([Buffer.from('hello from a tty\n'), Buffer.from('more\n')])).toEqual({ stdout: 'hello from a tty\nmore\n', stderr: '' });
    expect(decode([Buffer.from('hi\n')])).toEqual({ stdout: 'hi\n', stderr: '' });
  });

  it('refuses a corrupt header in the middle of a multiplexed stream', () => {
    const decoder = new FrameDecoder();
    decoder.push(frame(1, 'ok'));
    expect(() => decoder.push(Buffer.from('garbage!'))).toThrow(/corrupt attach stream/);
  });
});
