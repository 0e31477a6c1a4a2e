import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { KeyRing } from './key-ring.ts';

/**
 * One encrypted record: AES-256-GCM with a fresh 12-byte nonce. Layout:
 *   purpose (1 byte) | format (1) | key version (uint32 BE) | seq (uint64 BE) | nonce (12) | ciphertext | tag (16)
 * The first 14 bytes are authenticated as associated data, so the seq and key version shown in the clear
 * cannot be altered, and an outbox record cannot be passed off as an audit record (the purpose byte).
 */
export type EnvelopePurpose = 'audit' | 'outbox' | 'state' | 'settings';

const PURPOSE_BYTE: Record<EnvelopePurpose, number> = { audit: 0x41, outbox: 0x4f, state: 0x53, settings: 0x43 };
const FORMAT = 1;
const HEADER_BYTES = 14;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface OpenedEnvelope {
  seq: number;
  keyVersion: number;
  plaintext: Buffer;
}

function header(purpose: EnvelopePurpose, keyVersion: number, seq: number): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.writeUInt8(PURPOSE_BYTE[purpose], 0);
  bytes.writeUInt8(FORMAT, 1);
  bytes.writeUInt32BE(keyVersion, 2);
  bytes.writeBigUInt64BE(BigInt(seq), 6);
  return bytes;
}

/** Encrypts `plaintext` under the ring's current key. */
export function sealEnvelope(keys: KeyRing, purpose: EnvelopePurpose, seq: number, plaintext: Buffer): Buffer {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new FleetError('invalid_input', 'envelope seq must be a non-negative integer');
  const aad = header(purpose, keys.currentVersion, seq);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.currentKey(), nonce);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([aad, nonce, ciphertext, cipher.getAuthTag()]);
}

/** The seq claimed by an envelope's clear header, before authentication; null when too short. */
export function peekEnvelopeSeq(envelope: Buffer): number | null {
  if (envelope.length < HEADER_BYTES) return null;
  const seq = envelope.readBigUInt64BE(6);
  return seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seq) : null;
}

/** Decrypts and authenticates an envelope; any tampering raises FleetError('integrity'). */
export function openEnvelope(keys: KeyRing, purpose: EnvelopePurpose, envelope: Buffer): OpenedEnvelope {
  if (envelope.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES) {
    throw new FleetError('integrity', 'encrypted record is too short');
  }
  if (envelope.readUInt8(0) !== PURPOSE_BYTE[purpose] || envelope.readUInt8(1) !== FORMAT) {
    throw new FleetError('integrity', `encrypted record is not a format-${FORMAT} ${purpose} record`);
  }
  const keyVersion = envelope.readUInt32BE(2);
  const key = keys.key(keyVersion);
  if (key === undefined) throw new FleetError('integrity', `encrypted record uses data key version ${keyVersion}, which the key ring does not hold`);
  const seq = peekEnvelopeSeq(envelope);
  if (seq === null) throw new FleetError('integrity', 'encrypted record has an out-of-range seq');
  const aad = envelope.subarray(0, HEADER_BYTES);
  const nonce = envelope.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const tag = envelope.subarray(envelope.length - TAG_BYTES);
  const ciphertext = envelope.subarray(HEADER_BYTES + NONCE_BYTES, envelope.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    return { seq, keyVersion, plaintext };
  } catch (error) {
    throw new FleetError('integrity', 'encrypted record failed authentication (tampered or wrong key)', { cause: error });
  }
}
