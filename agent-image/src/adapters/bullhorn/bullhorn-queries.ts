import { createHash } from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { assertIdempotencyKey } from '../../domain/idempotency-key.ts';

/**
 * The query strings this adapter sends, built from checked values only: Lucene for `search` (Bullhorn's
 * index), SQL-style `where` for `query` (the database, consistent at once, which the idempotency lookup
 * needs: the search index lags behind writes).
 */

/** Lucene: the person with this address in any of their three email fields, not deleted. */
export function emailSearch(email: string): string {
  const phrase = `"${searchedAddress(email)}"`;
  return `(email:${phrase} OR email2:${phrase} OR email3:${phrase}) AND isDeleted:0`;
}

/** The address a search is for, normalised (lower case); the hits are checked against it. */
export function searchedAddress(email: string): string {
  const address = normaliseAddress(email);
  // normaliseAddress admits no quote or backslash, so the phrase cannot be broken out of.
  if (address === undefined || /["\\]/.test(address)) throw new FleetError('invalid_input', 'not a valid email address');
  return address;
}

/** A Bullhorn id from our string form (digits only, so it can stand unquoted in a query). */
export function bullhornId(id: string): number {
  if (!/^[1-9]\d{0,14}$/.test(id)) throw new FleetError('invalid_input', 'CRM record id must be a positive integer');
  return Number(id);
}

const EXTERNAL_ID_MAX = 100;
const PREFIX = 'af:';

/**
 * The Note `externalID` (at most 100 characters) that carries an idempotency key. Keys that would not
 * fit are replaced by their SHA-256; the prefix keeps other integrations' external ids from matching.
 */
export function noteExternalId(key: string): string {
  assertIdempotencyKey(key);
  const plain = `${PREFIX}${key}`;
  if (plain.length <= EXTERNAL_ID_MAX) return plain;
  return `${PREFIX}sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** SQL-style where: the Note carrying this external id. The id's alphabet has no quote. */
export function noteByExternalId(externalId: string): string {
  return `externalID='${externalId}'`;
}

/** SQL-style where: the person's notes that are not deleted. */
export function notesOf(personId: number): string {
  return `personReference.id=${personId} AND isDeleted=false`;
}

/** SQL-style where: the NoteEntity rows of a Note. */
export function noteEntitiesOf(noteId: number): string {
  return `note.id=${noteId}`;
}
