import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { MAX_ENTRY_BYTES } from './export-manifest.ts';

/**
 * A strict, streaming reader of the tar archives the export writer makes: POSIX ustar headers, nothing
 * after the end-of-archive marker. It refuses what tar tools interpret differently instead of picking one
 * reading (a pax global header renames every entry for GNU tar; GNU long names, sparse maps, base-256 or
 * malformed numbers, data after the end), so it never verifies entries other than those an auditor's tar
 * extracts. A pax extended header is read only for the names it carries (so a foreign entry is reported
 * under its real name), bounded, and flagged on the entry. Memory stays bounded (one source chunk, one
 * header), whatever the headers claim.
 */

const BLOCK = 512;
/** An export holds a few dozen files: past this many entries the archive is not one (and `seen` maps stay bounded). */
export const MAX_ARCHIVE_ENTRIES = 100_000;
/** Zeros allowed after the end-of-archive marker: tar tools pad to a record (10 KiB by default). */
const MAX_END_PADDING = 1024 * 1024;

export type TarEntryType =
  | 'file'
  | 'hard-link'
  | 'symlink'
  | 'character-device'
  | 'block-device'
  | 'directory'
  | 'fifo'
  | 'contiguous-file';

export interface TarEntry {
  /** The entry's path as stored (prefix/name), decoded as UTF-8; bytes that are not UTF-8 become `\xNN`. */
  name: string;
  type: TarEntryType;
  /** Bytes of data that follow the header. */
  size: number;
  /** Byte offset of the entry's header in the archive. */
  offset: number;
  /** A pax extended header came with it (its path, when it set one, is `name`). The writer never makes one. */
  extended: boolean;
}

const TYPES: Readonly<Record<string, TarEntryType>> = {
  '0': 'file',
  '\0': 'file',
  '1': 'hard-link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  '7': 'contiguous-file',
};

/** Extension headers refused outright: tar tools apply them differently (a global one renames every entry for GNU tar). */
const EXTENSIONS: Readonly<Record<string, string>> = {
  g: 'a pax global header',
  L: 'a GNU long-name header',
  K: 'a GNU long-link header',
  S: 'a GNU sparse file',
  V: 'a GNU volume label',
  M: 'a GNU multi-volume continuation',
  D: 'a GNU dump directory',
};

const PAX_HEADER = 'x';
/** A pax header only carries names here: a few hundred bytes. More is refused before it is read. */
const MAX_PAX_BYTES = 64 * 1024;
/**
 * Pax keywords that name an entry or only describe it. Any other (size, hdrcharset, GNU.sparse.*, …)
 * changes how tools frame or decode the entry, and is refused rather than interpreted one way.
 */
const PAX_KEYWORDS: ReadonlySet<string> = new Set(['path', 'linkpath', 'mtime', 'atime', 'ctime', 'uid', 'gid', 'uname', 'gname', 'comment']);

function corrupt(offset: number, message: string): FleetError {
  return new FleetError('integrity', `${message} (at byte ${offset})`);
}

/** Pulls exact byte counts out of a chunked source, holding at most one chunk. */
class ByteSource {
  private readonly iterator: AsyncIterator<Uint8Array | string>;
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes handed out so far. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>) {
    this.iterator =
      Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : (async function* () {
            yield* source;
          })();
  }

  /** Up to `limit` bytes (fewer only at the end of the source); an empty buffer at the end. */
  async next(limit: number): Promise<Buffer> {
    while (this.pending.length === 0) {
      const step = await this.iterator.next();
      if (step.done) return Buffer.alloc(0);
      const value = step.value;
      this.pending = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
    const taken = this.pending.subarray(0, limit);
    this.pending = this.pending.subarray(taken.length);
    this.position += taken.length;
    return taken;
  }

  /** Exactly `count` bytes (a header: small), or fewer when the source ends first. */
  async exactly(count: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let length = 0;
    while (length < count) {
      const part = await this.next(count - length);
      if (part.length === 0) break;
      parts.push(part);
      length += part.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  async return(): Promise<void> {
    await this.iterator.return?.();
  }
}

/** A header field up to its first NUL. */
function text(field: Buffer): string {
  const end = field.indexOf(0);
  return decoded(end === -1 ? field : field.subarray(0, end));
}

function decoded(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return Array.from(bytes, (byte) =>
      byte < 0x80 ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`,
    ).join('');
  }
}

/** A numeric header field: octal digits, then NULs or spaces. Null when it is anything else. */
function octal(field: Buffer): number | null {
  const value = field.toString('latin1').replace(/^ +/, '').replace(/[ \0]+$/, '');
  if (!/^[0-7]{1,12}$/.test(value)) return null;
  return Number.parseInt(value, 8);
}

function checksumOf(block: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i] ?? 0;
  for (let i = 156; i < BLOCK; i++) sum += block[i] ?? 0;
  return sum;
}

function isZero(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

interface RawHeader {
  flag: string;
  size: number;
  name: string;
  offset: number;
}

function parseHeader(block: Buffer, offset: number): RawHeader {
  const stored = octal(block.subarray(148, 156));
  if (stored === null || stored !== checksumOf(block))
    throw corrupt(offset, 'a tar header has a wrong checksum: the archive is damaged or not a tar');
  if (block.toString('latin1', 257, 265) !== 'ustar\u000000')
    throw corrupt(offset, 'a tar header is not POSIX ustar (export archives never use GNU or old tar headers)');
  const flag = String.fromCharCode(block[156] ?? 0);
  const extension = EXTENSIONS[flag];
  if (extension !== undefined)
    throw corrupt(
      offset,
      `the archive holds ${extension}, which export archives never contain: tar tools would read the entries after it differently, so it is refused`,
    );
  const size = octal(block.subarray(124, 136));
  if (size === null) throw corrupt(offset, 'a tar header has a size that is not an octal number');
  if (size > MAX_ENTRY_BYTES) throw corrupt(offset, `a tar entry claims ${size} bytes, more than an export entry can hold`);
  const name = text(block.subarray(0, 100));
  const prefix = text(block.subarray(345, 500));
  return { flag, size, name: prefix === '' ? name : `${prefix}/${name}`, offset };
}

/** The records of a pax extended header (`<length> <keyword>=<value>\n` each), strictly. */
function parsePax(body: Buffer, offset: number): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const length = space === -1 ? '' : body.toString('latin1', at, space);
    const end = at + Number.parseInt(length, 10);
    if (!/^[1-9][0-9]{0,5}$/.test(length) || end > body.length || body[end - 1] !== 0x0a)
      throw corrupt(offset, 'a pax extended header has a malformed record');
    const record = body.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    const keyword = equals <= 0 ? '' : record.toString('utf8', 0, equals);
    if (!PAX_KEYWORDS.has(keyword))
      throw corrupt(offset, `a pax extended header sets ${JSON.stringify(keyword.slice(0, 40))}, which changes how tar tools read the entry`);
    if (fields.has(keyword)) throw corrupt(offset, `a pax extended header sets ${keyword} twice`);
    // Kept whole, a NUL included: an entry with a pax header fails verification whatever it is named.
    fields.set(keyword, decoded(record.subarray(equals + 1)));
    at = end;
  }
  return fields;
}

function toEntry(header: RawHeader, pax: Map<string, string> | null): TarEntry {
  const { flag, size, offset } = header;
  if (flag === PAX_HEADER) throw corrupt(offset, 'a pax extended header follows another one');
  const type = TYPES[flag];
  if (type === undefined) throw corrupt(offset, `a tar header has the unknown type ${JSON.stringify(flag)}`);
  // Links, devices and directories carry no data; one that claims some would be framed differently by different tools.
  if (size !== 0 && type !== 'file' && type !== 'contiguous-file')
    throw corrupt(offset, `a ${type} entry claims ${size} bytes of data`);
  const path = pax?.get('path');
  if (path === '') throw corrupt(offset, 'a pax extended header sets an empty path');
  return { name: path ?? header.name, type, size, offset, extended: pax !== null };
}

/**
 * Reads every entry of a tar archive in order, calling `onEntry` with its header and its data (which it
 * may read or leave: what it leaves is skipped). Throws an `integrity` FleetError naming the byte offset
 * when the archive is not a complete, plain ustar archive.
 */
export async function readTarEntries(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  onEntry: (entry: TarEntry, data: AsyncIterable<Buffer>) => Promise<void>,
): Promise<void> {
  const bytes = new ByteSource(source);
  try {
    let pax: Map<string, string> | null = null;
    for (let count = 0; ; count++) {
      const offset = bytes.position;
      const block = await bytes.exactly(BLOCK);
      if (block.length === 0) throw corrupt(offset, 'the archive ends without its end-of-archive marker: it was cut short');
      if (block.length < BLOCK) throw corrupt(offset, 'the archive ends inside a tar header: it was cut short');
      if (isZero(block)) {
        if (pax !== null) throw corrupt(offset, 'a pax extended header is followed by no entry');
        return await readEnd(bytes, offset);
      }
      if (count >= MAX_ARCHIVE_ENTRIES)
        throw corrupt(offset, `the archive has more than ${MAX_ARCHIVE_ENTRIES} entries, far more than an export holds`);
      const header = parseHeader(block, offset);
      if (header.flag === PAX_HEADER && pax === null) {
        if (header.size > MAX_PAX_BYTES)
          throw corrupt(offset, `a pax extended header claims ${header.size} bytes, more than the names it may carry`);
        const padded = header.size + ((BLOCK - (header.size % BLOCK)) % BLOCK);
        const body = await bytes.exactly(padded);
        if (body.length < padded) throw corrupt(bytes.position, 'the archive ends inside a pax extended header: it was cut short');
        pax = parsePax(body.subarray(0, header.size), offset);
        continue;
      }
      const entry = toEntry(header, pax);
      pax = null;
      let left = entry.size;
      const data = async function* (): AsyncGenerator<Buffer> {
        while (left > 0) {
          const part = await bytes.next(Math.min(left, 64 * 1024));
          if (part.length === 0) throw corrupt(bytes.position, `the archive ends inside ${entry.name}: it was cut short`);
          left -= part.length;
          yield part;
        }
      };
      await onEntry(entry, data());
      for await (const _skipped of data());
      const padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
      if ((await bytes.exactly(padding)).length < padding)
        throw corrupt(bytes.position, `the archive ends after ${entry.name}: it was cut short`);
    }
  } finally {
    await bytes.return();
  }
}

/**
 * After the first zero block: a second one, then nothing but zeros (padding to a tar record) to the end,
 * and not more padding than any tar tool writes, so an endless source of zeros (`/dev/zero`) ends too.
 */
async function readEnd(bytes: ByteSource, offset: number): Promise<void> {
  const second = await bytes.exactly(BLOCK);
  if (second.length < BLOCK || !isZero(second))
    throw corrupt(offset, 'the archive has a lone zero block where its end-of-archive marker should be two');
  const end = bytes.position;
  for (;;) {
    const at = bytes.position;
    const rest = await bytes.next(64 * 1024);
    if (rest.length === 0) return;
    if (!isZero(rest))
      throw corrupt(at + rest.findIndex((byte) => byte !== 0), 'the archive has data after its end-of-archive marker, which tar tools never extract');
    if (bytes.position - end > MAX_END_PADDING)
      throw corrupt(end, `the archive goes on with more than ${MAX_END_PADDING} zero bytes after its end-of-archive marker`);
  }
}
