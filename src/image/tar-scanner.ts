/**
 * A push-based, synchronous tar reader that parses headers and hands entry bodies to a sink
 * (or skips them) without ever holding more than one 512-byte header block of its own.
 *
 * It reads POSIX ustar, GNU (long names `L`/`K`, old sparse `S` with extension blocks) and PAX
 * (`x` records `path`, `linkpath`, `size`, `uid`, `gid`, `GNU.sparse.*`; `g` global headers are
 * parsed and ignored) archives, verifies every header checksum, decodes octal and base-256
 * numbers, and reports truncation precisely. It is used both for the outer `docker save`
 * archive and for every layer tar inside it, so a multi-gigabyte layer costs a few counters.
 *
 * Semantics follow Go's `archive/tar` reader (which dive uses) where it matters for the figures:
 * a `'\0'` type flag becomes a regular file (or a directory when the name ends in `/`), sizes are
 * the logical sizes (`GNU.sparse.realsize` for sparse files), the first all-zero block ends the
 * archive and anything after it is ignored.
 */
import { archiveError } from './errors.js';

/** Kinds of entries after type-flag decoding. */
export type TarEntryType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'char-device'
  | 'block-device'
  | 'directory'
  | 'fifo'
  | 'other';

/** One decoded tar header (PAX and GNU long-name overrides already applied). */
export interface TarHeader {
  /** Entry name as stored (ustar prefix joined, PAX `path` or GNU long name applied), not normalised. */
  name: string;
  /** Decoded kind. */
  type: TarEntryType;
  /** Raw type-flag byte after Go's normalisation (`'\0'` becomes `'0'` or `'5'`), e.g. 48 for a file. */
  typeflag: number;
  /** Permission and mode bits from the header (`mode` field), e.g. `0o755`. */
  mode: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Bytes of body stored in the archive for this entry (always 0 for links, devices, directories and FIFOs, as in Go). */
  size: number;
  /** Logical file size in bytes (differs from `size` only for sparse files); this is Go's `Header.Size`. */
  realSize: number;
  /** Link target for hard and symbolic links, otherwise `''`. */
  linkname: string;
  /** Byte offset of this entry's header block in the scanned stream. */
  offset: number;
}

/** Receives an entry's body bytes, in order; `end` is called once after the last byte. */
export interface TarSink {
  write(chunk: Buffer): void;
  end(): void;
}

/** Called for each entry; returns where its body goes, or `null` to skip the body. */
export interface TarScannerHandler {
  onEntry(header: TarHeader): TarSink | null;
}

/** Options of {@link TarScanner}. */
export interface TarScannerOptions {
  /** Name of the stream in error messages, e.g. `archive` or `layer 3 (blobs/sha256/ab12...)`. */
  label: string;
  /** Largest PAX / GNU long-name record accepted, in bytes (default 1 MiB). */
  maxMetaBytes?: number;
}

const BLOCK = 512;
const enum State {
  Header,
  Body,
  Meta,
  Padding,
  SparseExt,
  Done,
}

const T_PAX = 0x78; // 'x'
const T_PAX_GLOBAL = 0x67; // 'g'
const T_GNU_LONGNAME = 0x4c; // 'L'
const T_GNU_LONGLINK = 0x4b; // 'K'
const T_GNU_SPARSE = 0x53; // 'S'

/** Streaming tar parser; see the module comment. Not reusable after `end()`. */
export class TarScanner {
  /** Total bytes consumed so far. */
  offset = 0;
  /** Entries reported to the handler. */
  entries = 0;
  /** True once the end-of-archive (all-zero) block was seen. */
  sawEndMarker = false;

  private state = State.Header;
  private readonly carry = Buffer.allocUnsafe(BLOCK);
  private carryLen = 0;
  private remaining = 0;
  private padding = 0;
  private sink: TarSink | null = null;
  private current: TarHeader | null = null;
  private metaType = 0;
  private metaChunks: Buffer[] = [];
  private metaOffset = 0;
  private paxPath: string | null = null;
  private paxLinkpath: string | null = null;
  private paxSize: number | null = null;
  private paxUid: number | null = null;
  private paxGid: number | null = null;
  private paxRealSize: number | null = null;
  private gnuLongName: string | null = null;
  private gnuLongLink: string | null = null;
  private readonly maxMetaBytes: number;

  constructor(
    private readonly handler: TarScannerHandler,
    private readonly options: TarScannerOptions,
  ) {
    this.maxMetaBytes = options.maxMetaBytes ?? 1024 * 1024;
  }

  /** Feeds the next bytes of the stream. Throws a PitlaneError on a corrupt header. */
  write(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      switch (this.state) {
        case State.Header:
        case State.SparseExt: {
          let block: Buffer;
          if (this.carryLen === 0 && len - pos >= BLOCK) {
            block = chunk.subarray(pos, pos + BLOCK);
            pos += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.carryLen, len - pos);
            chunk.copy(this.carry, this.carryLen, pos, pos + n);
            this.carryLen += n;
            pos += n;
            if (this.carryLen < BLOCK) break;
            this.carryLen = 0;
            block = this.carry;
          }
          const blockOffset = this.offset;
          this.offset += BLOCK;
          if (this.state === State.Header) this.onHeaderBlock(block, blockOffset);
          else this.onSparseExtBlock(block);
          break;
        }
        case State.Body: {
          const n = Math.min(this.remaining, len - pos);
          if (this.sink !== null) this.sink.write(chunk.subarray(pos, pos + n));
          pos += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finishBody();
          break;
        }
        case State.Meta: {
          const n = Math.min(this.remaining, len - pos);
          this.metaChunks.push(Buffer.from(chunk.subarray(pos, pos + n)));
          pos += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finishMeta();
          break;
        }
        case State.Padding: {
          const n = Math.min(this.padding, len - pos);
          pos += n;
          this.offset += n;
          this.padding -= n;
          if (this.padding === 0) this.state = State.Header;
          break;
        }
        case State.Done:
          this.offset += len - pos;
          pos = len;
          break;
      }
    }
  }

  /** Signals the end of the stream; throws `IMAGE_ARCHIVE_TRUNCATED` when it ends inside an entry. */
  end(): void {
    const label = this.options.label;
    if (this.state === State.Done) return;
    if (this.state === State.Header && this.carryLen === 0) return;
    if (this.state === State.Header || this.state === State.SparseExt) {
      throw archiveError('IMAGE_ARCHIVE_TRUNCATED', `${label} is truncated: it ends inside a tar header at byte ${this.offset + this.carryLen}`, [
        { path: label, message: `only ${this.carryLen} of 512 header bytes present` },
      ]);
    }
    const name = this.current?.name ?? '(metadata record)';
    const missing = this.state === State.Padding ? this.padding : this.remaining + this.paddingFor(this.current?.size ?? 0);
    throw archiveError('IMAGE_ARCHIVE_TRUNCATED', `${label} is truncated: it ends inside entry '${name}' (${missing} more bytes expected)`, [
      { path: label, message: `stream ended at byte ${this.offset} inside '${name}'` },
    ]);
  }

  private paddingFor(size: number): number {
    return (BLOCK - (size % BLOCK)) % BLOCK;
  }

  private onHeaderBlock(block: Buffer, blockOffset: number): void {
    if (isZeroBlock(block)) {
      this.sawEndMarker = true;
      this.state = State.Done;
      return;
    }
    verifyChecksum(block, blockOffset, this.options.label);
    let typeflag = block[156]!;
    const size = parseNumeric(block, 124, 12, 'size', blockOffset, this.options.label);

    if (typeflag === T_PAX || typeflag === T_PAX_GLOBAL || typeflag === T_GNU_LONGNAME || typeflag === T_GNU_LONGLINK) {
      if (size > this.maxMetaBytes) {
        throw archiveError('IMAGE_ARCHIVE_INVALID', `${this.options.label}: metadata record at byte ${blockOffset} is ${size} bytes (limit ${this.maxMetaBytes})`);
      }
      this.metaType = typeflag;
      this.metaOffset = blockOffset;
      this.metaChunks = [];
      this.remaining = size;
      this.padding = this.paddingFor(size);
      if (size === 0) this.finishMeta();
      else this.state = State.Meta;
      return;
    }

    const magicUstar = block[257] === 0x75 && block[258] === 0x73 && block[259] === 0x74 && block[260] === 0x61 && block[261] === 0x72;
    const posix = magicUstar && block[262] === 0; // "ustar\0" (GNU writes "ustar  \0")
    let name = readString(block, 0, 100);
    if (posix) {
      const prefix = readString(block, 345, 155);
      if (prefix.length > 0) name = `${prefix}/${name}`;
    }
    let linkname = readString(block, 157, 100);
    if (this.gnuLongName !== null) name = this.gnuLongName;
    if (this.gnuLongLink !== null) linkname = this.gnuLongLink;
    if (this.paxPath !== null) name = this.paxPath;
    if (this.paxLinkpath !== null) linkname = this.paxLinkpath;

    if (typeflag === 0) typeflag = name.endsWith('/') ? 0x35 : 0x30;
    const mode = parseNumeric(block, 100, 8, 'mode', blockOffset, this.options.label);
    const declaredSize = this.paxSize ?? size;
    // Go's archive/tar (isHeaderOnlyType): links, devices, directories and FIFOs carry no body,
    // whatever their size field says; Header.Size still reports the field.
    const headerOnly = typeflag >= 0x31 && typeflag <= 0x36;
    const bodySize = headerOnly ? 0 : declaredSize;
    let realSize = this.paxRealSize ?? declaredSize;
    let sparseExtended = false;
    if (typeflag === T_GNU_SPARSE) {
      realSize = this.paxRealSize ?? parseNumeric(block, 483, 12, 'realsize', blockOffset, this.options.label);
      sparseExtended = block[482] !== 0;
    }
    const header: TarHeader = {
      name,
      type: decodeType(typeflag, mode),
      typeflag,
      mode,
      uid: this.paxUid ?? parseNumeric(block, 108, 8, 'uid', blockOffset, this.options.label),
      gid: this.paxGid ?? parseNumeric(block, 116, 8, 'gid', blockOffset, this.options.label),
      size: bodySize,
      realSize,
      linkname,
      offset: blockOffset,
    };
    this.paxPath = this.paxLinkpath = null;
    this.paxSize = this.paxUid = this.paxGid = this.paxRealSize = null;
    this.gnuLongName = this.gnuLongLink = null;

    this.current = header;
    if (sparseExtended) {
      this.state = State.SparseExt;
      return;
    }
    this.beginBody(header);
  }

  private onSparseExtBlock(block: Buffer): void {
    if (block[504] === 0) this.beginBody(this.current!);
  }

  private beginBody(header: TarHeader): void {
    this.entries++;
    this.sink = this.handler.onEntry(header);
    this.remaining = header.size;
    this.padding = this.paddingFor(header.size);
    if (header.size === 0) this.finishBody();
    else this.state = State.Body;
  }

  private finishBody(): void {
    const sink = this.sink;
    this.sink = null;
    this.state = this.padding > 0 ? State.Padding : State.Header;
    if (sink !== null) sink.end();
  }

  private finishMeta(): void {
    const buf = this.metaChunks.length === 1 ? this.metaChunks[0]! : Buffer.concat(this.metaChunks);
    this.metaChunks = [];
    this.state = this.padding > 0 ? State.Padding : State.Header;
    switch (this.metaType) {
      case T_GNU_LONGNAME:
        this.gnuLongName = readString(buf, 0, buf.length);
        break;
      case T_GNU_LONGLINK:
        this.gnuLongLink = readString(buf, 0, buf.length);
        break;
      case T_PAX:
        this.applyPax(parsePaxRecords(buf, this.metaOffset, this.options.label));
        break;
      case T_PAX_GLOBAL:
        parsePaxRecords(buf, this.metaOffset, this.options.label); // validated, then ignored (see module comment)
        break;
    }
  }

  private applyPax(records: Map<string, string>): void {
    const num = (key: string): number | null => {
      const v = records.get(key);
      if (v === undefined) return null;
      if (!/^\d+$/.test(v)) {
        throw archiveError('IMAGE_ARCHIVE_INVALID', `${this.options.label}: PAX record ${key}=${JSON.stringify(v)} at byte ${this.metaOffset} is not a number`);
      }
      return Number(v);
    };
    const path = records.get('path');
    if (path !== undefined) this.paxPath = path;
    const linkpath = records.get('linkpath');
    if (linkpath !== undefined) this.paxLinkpath = linkpath;
    this.paxSize = num('size');
    this.paxUid = num('uid');
    this.paxGid = num('gid');
    this.paxRealSize = num('GNU.sparse.realsize') ?? num('GNU.sparse.size');
    const sparseName = records.get('GNU.sparse.name');
    if (sparseName !== undefined) this.paxPath = sparseName;
  }
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i += 8) {
    if (block.readBigUInt64LE(i) !== 0n) return false;
  }
  return true;
}

function verifyChecksum(block: Buffer, blockOffset: number, label: string): void {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  let stored: number;
  try {
    stored = parseNumeric(block, 148, 8, 'checksum', blockOffset, label);
  } catch {
    stored = -1;
  }
  if (stored !== unsigned && stored !== signed) {
    throw archiveError(
      'IMAGE_ARCHIVE_INVALID',
      `${label} is not a valid tar stream: bad header checksum at byte ${blockOffset} (corrupt, or compressed data where a tar was expected)`,
      [{ path: label, message: `header at byte ${blockOffset}: stored checksum ${stored}, computed ${unsigned}` }],
    );
  }
}

/** Parses an octal (NUL/space terminated) or base-256 numeric header field. */
function parseNumeric(block: Buffer, off: number, len: number, field: string, blockOffset: number, label: string): number {
  const first = block[off]!;
  if (first & 0x80) {
    if (first === 0xff) {
      throw archiveError('IMAGE_ARCHIVE_INVALID', `${label}: negative ${field} in tar header at byte ${blockOffset}`);
    }
    let value = first & 0x7f;
    for (let i = 1; i < len; i++) value = value * 256 + block[off + i]!;
    if (!Number.isSafeInteger(value)) {
      throw archiveError('IMAGE_ARCHIVE_INVALID', `${label}: ${field} in tar header at byte ${blockOffset} is too large`);
    }
    return value;
  }
  let i = off;
  const endAt = off + len;
  while (i < endAt && (block[i] === 0x20 || block[i] === 0)) i++;
  let value = 0;
  let digits = 0;
  for (; i < endAt; i++) {
    const c = block[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) {
      throw archiveError('IMAGE_ARCHIVE_INVALID', `${label}: ${field} field of the tar header at byte ${blockOffset} is not octal`);
    }
    value = value * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : value;
}

function readString(buf: Buffer, off: number, len: number): string {
  let end = off;
  const max = Math.min(buf.length, off + len);
  while (end < max && buf[end] !== 0) end++;
  return buf.toString('utf8', off, end);
}

function parsePaxRecords(buf: Buffer, metaOffset: number, label: string): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) break; // trailing NUL padding written by some tools
    const space = buf.indexOf(0x20, pos);
    const length = space > pos ? Number(buf.toString('latin1', pos, space)) : NaN;
    if (!Number.isInteger(length) || length <= 0 || pos + length > buf.length || buf[pos + length - 1] !== 0x0a) {
      throw archiveError('IMAGE_ARCHIVE_INVALID', `${label}: malformed PAX record at byte ${metaOffset}`);
    }
    const record = buf.toString('utf8', space + 1, pos + length - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw archiveError('IMAGE_ARCHIVE_INVALID', `${label}: malformed PAX record at byte ${metaOffset}`);
    records.set(record.slice(0, eq), record.slice(eq + 1));
    pos += length;
  }
  return records;
}

function decodeType(typeflag: number, mode: number): TarEntryType {
  switch (typeflag) {
    case 0x30: // '0'
    case 0x37: // '7' contiguous
    case T_GNU_SPARSE:
      return (mode & 0o170000) === 0o040000 ? 'directory' : 'file';
    case 0x31:
      return 'hardlink';
    case 0x32:
      return 'symlink';
    case 0x33:
      return 'char-device';
    case 0x34:
      return 'block-device';
    case 0x35:
    case 0x44: // 'D' GNU dump dir
      return 'directory';
    case 0x36:
      return 'fifo';
    default:
      return 'other';
  }
}
