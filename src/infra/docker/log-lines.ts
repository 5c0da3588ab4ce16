/**
 * Turning Docker's output into lines: the 8-byte-header multiplexed log format of the Engine API
 * ("Attach to a container" / "Get container logs", stream type byte + 4-byte big-endian size) and
 * chunked text split at newlines.
 */
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** Splits a chunked text stream into lines, calling `onLine` for each complete line (without `\n`). */
export class LineSplitter {
  private pending = '';

  constructor(private readonly onLine: (line: string) => void) {}

  /** Adds a chunk; complete lines are emitted at once. */
  push(chunk: string): void {
    const text = this.pending + chunk;
    const parts = text.split('\n');
    this.pending = parts.pop() ?? '';
    for (const part of parts) this.onLine(part.replace(/\r$/, ''));
  }

  /** Emits what is left as a final line (if any). */
  flush(): void {
    if (this.pending.length > 0) this.onLine(this.pending.replace(/\r$/, ''));
    this.pending = '';
  }
}

/** One demultiplexed frame of container output. */
export interface OutputFrame {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/**
 * Decodes a buffer in Docker's multiplexed stream format into frames. A buffer that does not start
 * with a valid header (a container with a TTY) is returned as one stdout frame.
 */
export function demultiplex(buffer: Buffer): OutputFrame[] {
  const frames: OutputFrame[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const type = buffer[offset] ?? 255;
    const padding = buffer.readUIntBE(offset + 1, 3);
    if (type > 2 || padding !== 0) break;
    const size = buffer.readUInt32BE(offset + 4);
    frames.push({ stream: type === 2 ? 'stderr' : 'stdout', data: buffer.subarray(offset + 8, offset + 8 + size) });
    offset += 8 + size;
  }
  if (offset === 0 && buffer.length > 0) return [{ stream: 'stdout', data: buffer }];
  return frames;
}

/** Demultiplexes `buffer` and returns its text lines in order (both streams). */
export function demultiplexLines(buffer: Buffer): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  // One decoder per stream: a frame may end inside a multi-byte character that the next one completes.
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  for (const frame of demultiplex(buffer)) splitter.push(decoders[frame.stream].write(frame.data));
  splitter.push(decoders.stdout.end() + decoders.stderr.end());
  splitter.flush();
  return lines;
}

/**
 * A writable stream that splits what is written (UTF-8 text) into lines and hands each to
 * `onLine`; the last unterminated line is handed over when the stream ends.
 */
export function lineWritable(onLine: (line: string) => void): Writable {
  const splitter = new LineSplitter(onLine);
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      splitter.push(chunk.toString('utf8'));
      callback();
    },
    final(callback) {
      splitter.flush();
      callback();
    },
  });
}
