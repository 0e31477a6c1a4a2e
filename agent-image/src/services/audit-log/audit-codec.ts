import { parseAuditRecord, type AuditRecord } from '../../domain/audit-record.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { openEnvelope, peekEnvelopeSeq, sealEnvelope } from './envelope.ts';
import type { KeyRing } from './key-ring.ts';

/**
 * One audit record as stored: base64 of its AES-256-GCM envelope, one per line. The plaintext need not be
 * canonical (the hash is recomputed from the parsed fields), so the native serialiser is used.
 */
export function encodeAuditLine(keys: KeyRing, record: AuditRecord): string {
  return sealEnvelope(keys, 'audit', record.seq, Buffer.from(JSON.stringify(record), 'utf8')).toString('base64');
}

export type DecodedAuditLine =
  | { ok: true; record: AuditRecord; keyVersion: number }
  | { ok: false; kind: 'undecryptable' | 'malformed'; seq: number | null; message: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decrypts and checks one stored line; never throws on bad input, since the file is untrusted. */
export function decodeAuditLine(keys: KeyRing, line: string): DecodedAuditLine {
  if (!BASE64.test(line)) return { ok: false, kind: 'undecryptable', seq: null, message: 'line is not base64' };
  const envelope = Buffer.from(line, 'base64');
  let opened;
  try {
    opened = openEnvelope(keys, 'audit', envelope);
  } catch (error) {
    return { ok: false, kind: 'undecryptable', seq: peekEnvelopeSeq(envelope), message: (error as Error).message };
  }
  let value: unknown;
  try {
    value = JSON.parse(opened.plaintext.toString('utf8'));
  } catch {
    return { ok: false, kind: 'malformed', seq: opened.seq, message: 'decrypted record is not JSON' };
  }
  const parsed = parseAuditRecord(value);
  if (!parsed.ok) return { ok: false, kind: 'malformed', seq: opened.seq, message: parsed.problems.join('; ') };
  if (parsed.record.seq !== opened.seq) {
    return { ok: false, kind: 'malformed', seq: opened.seq, message: `record says seq ${parsed.record.seq}, its envelope ${opened.seq}` };
  }
  return { ok: true, record: parsed.record, keyVersion: opened.keyVersion };
}

/** Like decodeAuditLine, for callers that treat a bad line as an integrity failure. */
export function decodeAuditLineOrThrow(keys: KeyRing, line: string, where: string): AuditRecord {
  const decoded = decodeAuditLine(keys, line);
  if (!decoded.ok) {
    throw new FleetError('integrity', `audit record ${decoded.seq ?? '?'} in ${where} is ${decoded.kind}: ${decoded.message}`);
  }
  return decoded.record;
}
