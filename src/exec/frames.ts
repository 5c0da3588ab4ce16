/**
 * Incremental decoding of Docker's multiplexed attach stream (Engine API "Attach to a container":
 * 8-byte header = stream type byte (0 stdin, 1 stdout, 2 stderr), 3 zero bytes, 4-byte big-endian
 * payload size; then the payload). Unlike `demultiplex` in infra/docker/log-lines.ts, which decodes
 * a complete buffer, this takes the chunks as the socket delivers them: headers and payloads may be
 * split anywhere, and a payload's bytes are handed out as soon as they arrive, so the child's
 * output is never held back waiting for the rest of a frame (or for a newline).
 */
import type { OutputFrame } from '../infra/docker/log-lines.js';

export type { OutputFrame };

/** Streaming demultiplexer; `push` each chunk, act on the frames it returns. */
export class FrameDecoder {
  private readonly header = Buffer.alloc(8);
  private headerBytes = 0;
  private remaining = 0;
  private stream: OutputFrame['stream'] = 'stdout';
  /** Set when the stream turned out not to be multiplexed (a TTY container): all bytes are stdout. */
  private raw = false;
  private started = false;

  /** Decodes `chunk`; returns the payload pieces it completes or continues, in order. */
  push(chunk: Buffer): OutputFrame[] {
    if (this.raw) return chunk.length > 0 ? [{ stream: 'stdout', data: chunk }] : [];
    const frames: OutputFrame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        frames.push({ stream: this.stream, data: chunk.subarray(offset, offset + take) });
        this.remaining -= take;
        offset += take;
        continue;
      }
      const take = Math.min(8 - this.headerBytes, chunk.length - offset);
      chunk.copy(this.header, this.headerBytes, offset, offset + take);
      this.headerBytes += take;
      offset += take;
      if (this.headerBytes < 8) break;
      this.headerBytes = 0;
      const type = this.header[0] ?? 255;
      if (type > 2 || this.header.readUIntBE(1, 3) !== 0) {
        if (!this.started) {
          // Not a multiplexed stream: pass everything through as stdout from here on.
          this.raw = true;
          const rest = Buffer.concat([this.header, chunk.subarray(offset)]);
          frames.push({ stream: 'stdout', data: rest });
          return frames;
        }
        throw new Error(`corrupt attach stream: bad frame header ${this.header.toString('hex')}`);
      }
      this.started = true;
      this.stream = type === 2 ? 'stderr' : 'stdout';
      this.remaining = this.header.readUInt32BE(4);
    }
    return frames;
  }

  /**
   * Called at the end of the stream: the bytes of an incomplete header, or of an unfinished
   * frame's announced payload, that never came (0 when the stream ended cleanly).
   */
  pendingBytes(): number {
    return this.headerBytes + this.remaining;
  }

  /** Header bytes received without the rest of their header (for a raw stream shorter than 8 bytes). */
  leftover(): Buffer {
    return !this.started && !this.raw && this.headerBytes > 0 ? Buffer.from(this.header.subarray(0, this.headerBytes)) : Buffer.alloc(0);
  }
}
