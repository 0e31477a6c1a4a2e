import { FleetError } from '@agent-fleet/kernel/fleet-error';

const BLOCK = 512;
/**
 * A pax extended header or GNU long name larger than this is not one a volume snapshot writes; the tar
 * reader holds each of them whole in memory, so a larger one is refused before its bytes arrive.
 */
const MAX_EXTENDED_HEADER_BYTES = 1024 * 1024;
/** Checksum of a block whose bytes are all zero (the checksum field counts as eight spaces). */
const NULL_BLOCK_CHECKSUM = 8 * 32;
const PAX_HEADER = 'x'.charCodeAt(0) - 48;
const PAX_GLOBAL_HEADER = 'g'.charCodeAt(0) - 48;
const GNU_LONG_PATH = 'L'.charCodeAt(0) - 48;
const GNU_LONG_LINK = 'K'.charCodeAt(0) - 48;
const DIRECTORY = 5;

function refuse(message: string): never {
  throw new FleetError('integrity', `the backup's content is not a readable volume snapshot: ${message}`);
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let index = 0; index < BLOCK; index++) sum += index >= 148 && index < 156 ? 32 : (block[index] as number);
  return sum;
}

/** The numeric field as tar-stream reads it: base-256 when the high bit is set, else octal. */
function numericField(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  let value: number;
  if (((field[0] as number) & 0x80) !== 0) {
    value = 0;
    for (let index = 1; index < field.length; index++) value = value * 256 + (field[index] as number);
    if ((field[0] as number) !== 0x80) value = Number.NaN;
  } else {
    const text = field.toString('latin1').replace(/^ +/, '');
    const space = text.indexOf(' ');
    const digits = (space === -1 ? text : text.slice(0, space)).replace(/^\0+/, '');
    value = digits === '' ? 0 : Number.parseInt(digits, 8);
  }
  if (!Number.isSafeInteger(value) || value < 0) refuse(`an entry has an unreadable size`);
  return value;
}

function paxSize(data: Buffer): string | undefined {
  let size: string | undefined;
  let rest = data;
  while (rest.length > 0) {
    const space = rest.indexOf(0x20);
    const length = Number.parseInt(rest.subarray(0, space === -1 ? rest.length : space).toString('latin1'), 10);
    if (!length) break;
    const record = rest.subarray(space + 1, length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals === -1) break;
    if (record.slice(0, equals) === 'size') size = record.slice(equals + 1);
    rest = rest.subarray(length);
  }
  return size;
}

/**
 * Follows a tar stream block by block, skipping entry data the way tar-stream does, to tell a complete
 * archive (ended by its two zero blocks, nothing but zeros after them) from one cut off at an entry
 * boundary, which tar-stream reads as complete: a snapshot whose stream ended early would otherwise be
 * stored and later restored as if it were the whole volume.
 */
export class TarEndMarker {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Entry data (with its padding) still to pass before the next header. */
  private skip = 0;
  /** Bytes of a pax header's data still to collect. */
  private collecting: { left: number; parts: Buffer[]; global: boolean } | null = null;
  private paxGlobalSize: string | undefined;
  private nextSize: string | undefined;
  private zeroBlocks = 0;
  private ended = false;

  push(chunk: Uint8Array): void {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (data.length > 0) {
      if (this.skip > 0) {
        const taken = Math.min(this.skip, data.length);
        this.collect(data.subarray(0, taken));
        this.skip -= taken;
        data = data.subarray(taken);
        continue;
      }
      const wanted = BLOCK - this.partialBytes;
      const piece = data.subarray(0, wanted);
      data = data.subarray(piece.length);
      this.partial.push(piece);
      this.partialBytes += piece.length;
      if (this.partialBytes === BLOCK) {
        const block = Buffer.concat(this.partial, BLOCK);
        this.partial = [];
        this.partialBytes = 0;
        this.header(block);
      }
    }
  }

  /** Throws `integrity` unless the archive ended with its end marker. */
  finish(): void {
    if (this.skip > 0 || this.partialBytes > 0) refuse('it ends inside an entry');
    if (!this.ended) refuse('it ends without the end-of-archive marker (the stream was cut off)');
  }

  private collect(data: Buffer): void {
    const pax = this.collecting;
    if (pax === null) return;
    const kept = data.subarray(0, pax.left);
    pax.parts.push(kept);
    pax.left -= kept.length;
    if (pax.left > 0) return;
    const size = paxSize(Buffer.concat(pax.parts));
    this.collecting = null;
    if (pax.global) this.paxGlobalSize = size;
    else this.nextSize = size ?? this.paxGlobalSize;
  }

  private header(block: Buffer): void {
    if (checksum(block) === NULL_BLOCK_CHECKSUM) {
      if (++this.zeroBlocks >= 2) this.ended = true;
      return;
    }
    if (this.ended) refuse('it holds entries after its end-of-archive marker');
    this.zeroBlocks = 0;
    const flag = block[156] === 0 ? 0 : (block[156] as number) - 48;
    const ownSize = numericField(block, 124, 12);
    const padded = (size: number): number => size + ((BLOCK - (size % BLOCK)) % BLOCK);
    if (flag === PAX_HEADER || flag === PAX_GLOBAL_HEADER) {
      if (ownSize > MAX_EXTENDED_HEADER_BYTES) refuse('a pax header is too large');
      this.collecting = { left: ownSize, parts: [], global: flag === PAX_GLOBAL_HEADER };
      this.skip = padded(ownSize);
      if (ownSize === 0) this.collect(Buffer.alloc(0));
      return;
    }
    if (flag === GNU_LONG_PATH || flag === GNU_LONG_LINK) {
      if (ownSize > MAX_EXTENDED_HEADER_BYTES) refuse('a long name header is too large');
      this.skip = padded(ownSize);
      return;
    }
    const override = this.nextSize;
    this.nextSize = undefined;
    const size = override ? Number.parseInt(override, 10) : ownSize;
    if (!Number.isSafeInteger(size) || size < 0) refuse('an entry has an unreadable size');
    const name = block.subarray(0, 100);
    const nameEnd = name.indexOf(0);
    const endsWithSlash = name[(nameEnd === -1 ? 100 : nameEnd) - 1] === 0x2f;
    const directory = flag === DIRECTORY || (flag === 0 && endsWithSlash);
    this.skip = directory ? 0 : padded(size);
  }
}
