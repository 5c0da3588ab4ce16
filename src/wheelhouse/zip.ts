/**
 * A small, bounded ZIP reader for wheels (no zip library is installed in node_modules).
 *
 * It reads the end-of-central-directory record (ZIP64 too), the central directory and, per entry,
 * the local header; only "stored" and "deflate" entries are read (what wheels use). Every offset
 * and size is checked against the archive before use, and the limits bound the directory size,
 * the entry count and the uncompressed bytes. Data is inflated off the main thread with an output
 * cap and checked against the entry's size and CRC-32. Encrypted and multi-disk archives are refused.
 */
import { promisify } from 'node:util';
import { crc32, inflateRaw as inflateRawCallback, type InputType, type ZlibOptions } from 'node:zlib';

const inflateRaw = promisify(inflateRawCallback) as (buffer: InputType, options: ZlibOptions) => Promise<Buffer>;

/** A problem with the archive's structure or data. */
export class ZipError extends Error {
  constructor(
    message: string,
    /** The entry concerned, when there is one. */
    readonly entry?: string,
  ) {
    super(message);
    this.name = 'ZipError';
  }
}

/** A limit of {@link ZipLimits} was exceeded. */
export class ZipLimitError extends ZipError {
  override name = 'ZipLimitError';
}

/** Limits for one archive. */
export interface ZipLimits {
  /** Most entries. */
  maxEntries: number;
  /** Largest total of the entries' declared uncompressed sizes. */
  maxUncompressedBytes: number;
}

/** Default limits: 100,000 entries, 2 GiB uncompressed. */
export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 100_000, maxUncompressedBytes: 2 * 1024 * 1024 * 1024 };

/** One entry of the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  /** Name ends with `/`. */
  isDirectory: boolean;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

function u64(buffer: Buffer, offset: number, what: string): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError(`the ${what} is out of range`);
  return Number(value);
}

/** An opened archive: its entries and the bytes they point into. */
export class ZipArchive {
  private constructor(
    private readonly data: Buffer,
    /** Entries in central-directory order. */
    readonly entries: ZipEntry[],
  ) {}

  /**
   * Parses the central directory of `data`.
   * @throws ZipError when the structure is corrupt, ZipLimitError when a limit is exceeded.
   */
  static open(data: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipArchive {
    if (data.length < EOCD_SIZE) throw new ZipError('the file is too short to be a ZIP archive');
    // The end record is the last 22 bytes plus a comment of up to 65535 bytes.
    let eocd = -1;
    const lowest = Math.max(0, data.length - EOCD_SIZE - MAX_COMMENT);
    for (let at = data.length - EOCD_SIZE; at >= lowest; at -= 1) {
      if (data.readUInt32LE(at) === EOCD_SIGNATURE && at + EOCD_SIZE + data.readUInt16LE(at + 20) === data.length) {
        eocd = at;
        break;
      }
    }
    if (eocd < 0) throw new ZipError('no end-of-central-directory record: not a ZIP archive, or truncated');
    const disk = data.readUInt16LE(eocd + 4);
    const cdDisk = data.readUInt16LE(eocd + 6);
    let entriesOnDisk = data.readUInt16LE(eocd + 8);
    let totalEntries = data.readUInt16LE(eocd + 10);
    let cdSize = data.readUInt32LE(eocd + 12);
    let cdOffset = data.readUInt32LE(eocd + 16);
    let cdEnd = eocd;
    if (entriesOnDisk === 0xffff || totalEntries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || data.readUInt32LE(locator) !== ZIP64_LOCATOR_SIGNATURE) throw new ZipError('a ZIP64 archive without its ZIP64 locator');
      const record = u64(data, locator + 8, 'ZIP64 end record offset');
      if (record + 56 > locator || data.readUInt32LE(record) !== ZIP64_EOCD_SIGNATURE) throw new ZipError('the ZIP64 end record is missing or out of place');
      if (data.readUInt32LE(record + 16) !== 0 || data.readUInt32LE(record + 20) !== 0) throw new ZipError('multi-disk archives are not supported');
      entriesOnDisk = u64(data, record + 24, 'entry count');
      totalEntries = u64(data, record + 32, 'entry count');
      cdSize = u64(data, record + 40, 'central directory size');
      cdOffset = u64(data, record + 48, 'central directory offset');
      cdEnd = record;
    } else if (disk !== 0 || cdDisk !== 0) {
      throw new ZipError('multi-disk archives are not supported');
    }
    if (entriesOnDisk !== totalEntries) throw new ZipError('multi-disk archives are not supported');
    if (totalEntries > limits.maxEntries) throw new ZipLimitError(`the archive has ${totalEntries} entries, more than the ${limits.maxEntries} allowed`);
    if (cdOffset + cdSize > cdEnd) throw new ZipError('the central directory lies outside the archive');
    const entries: ZipEntry[] = [];
    const names = new Set<string>();
    let uncompressedTotal = 0;
    let at = cdOffset;
    const end = cdOffset + cdSize;
    for (let index = 0; index < totalEntries; index += 1) {
      if (at + 46 > end || data.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new ZipError(`central directory entry ${index + 1} is corrupt`);
      const flags = data.readUInt16LE(at + 8);
      const method = data.readUInt16LE(at + 10);
      const crc = data.readUInt32LE(at + 16);
      let compressedSize = data.readUInt32LE(at + 20);
      let uncompressedSize = data.readUInt32LE(at + 24);
      const nameLength = data.readUInt16LE(at + 28);
      const extraLength = data.readUInt16LE(at + 30);
      const commentLength = data.readUInt16LE(at + 32);
      const startDisk = data.readUInt16LE(at + 34);
      let localHeaderOffset = data.readUInt32LE(at + 42);
      const next = at + 46 + nameLength + extraLength + commentLength;
      if (next > end) throw new ZipError(`central directory entry ${index + 1} runs past the directory`);
      const name = data.toString('utf8', at + 46, at + 46 + nameLength);
      // ZIP64 extended information: only the fields whose 32-bit value is all ones, in this order.
      let extra = at + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = data.readUInt16LE(extra);
        const size = data.readUInt16LE(extra + 2);
        if (extra + 4 + size > extraEnd) throw new ZipError('an extra field runs past its entry', name);
        if (id === 0x0001) {
          let field = extra + 4;
          const take = (what: string): number => {
            if (field + 8 > extra + 4 + size) throw new ZipError(`the ZIP64 extra field lacks the ${what}`, name);
            const value = u64(data, field, what);
            field += 8;
            return value;
          };
          if (uncompressedSize === 0xffffffff) uncompressedSize = take('uncompressed size');
          if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
        }
        extra += 4 + size;
      }
      if (startDisk !== 0 && startDisk !== 0xffff) throw new ZipError('multi-disk archives are not supported', name);
      if (flags & 0x1) throw new ZipError('encrypted entries are not supported', name);
      if (method !== 0 && method !== 8) throw new ZipError(`compression method ${method} is not supported (only stored and deflate)`, name);
      if (method === 0 && compressedSize !== uncompressedSize) throw new ZipError('a stored entry whose sizes differ', name);
      if (names.has(name)) throw new ZipError(`the entry "${name}" appears twice`, name);
      names.add(name);
      uncompressedTotal += uncompressedSize;
      if (uncompressedTotal > limits.maxUncompressedBytes) {
        throw new ZipLimitError(`the archive expands to more than ${limits.maxUncompressedBytes} bytes`);
      }
      if (localHeaderOffset + 30 > cdOffset) throw new ZipError('the entry lies outside the archive', name);
      entries.push({ name, method, flags, crc32: crc, compressedSize, uncompressedSize, localHeaderOffset, isDirectory: name.endsWith('/') });
      at = next;
    }
    return new ZipArchive(data, entries);
  }

  /** The entry named `name`, if any. */
  entry(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /**
   * Reads and checks one entry: local header consistent with the central directory, data inside
   * the archive, inflated size equal to the declared one, CRC-32 right.
   * @throws ZipError.
   */
  async read(entry: ZipEntry): Promise<Buffer> {
    const at = entry.localHeaderOffset;
    const data = this.data;
    if (data.readUInt32LE(at) !== LOCAL_SIGNATURE) throw new ZipError('the local header is missing', entry.name);
    const nameLength = data.readUInt16LE(at + 26);
    const extraLength = data.readUInt16LE(at + 28);
    const start = at + 30 + nameLength + extraLength;
    if (start > data.length) throw new ZipError('the local header runs past the archive', entry.name);
    if (data.toString('utf8', at + 30, at + 30 + nameLength) !== entry.name) {
      throw new ZipError('the local header names a different file than the central directory', entry.name);
    }
    const end = start + entry.compressedSize;
    if (end > data.length) throw new ZipError('the entry data runs past the archive', entry.name);
    const compressed = data.subarray(start, end);
    let content: Buffer;
    if (entry.method === 0) {
      content = compressed;
    } else {
      try {
        // One byte more than declared, so an entry that inflates to more is caught, not cut.
        content = await inflateRaw(compressed, { maxOutputLength: Math.max(1, entry.uncompressedSize + 1) });
      } catch (error) {
        throw new ZipError(`the compressed data is corrupt (${(error as Error).message})`, entry.name);
      }
    }
    if (content.length !== entry.uncompressedSize) {
      throw new ZipError(`the data is ${content.length} bytes but the directory says ${entry.uncompressedSize}`, entry.name);
    }
    if (crc32(content) >>> 0 !== entry.crc32 >>> 0) throw new ZipError('the CRC-32 does not match the data', entry.name);
    return content;
  }
}
