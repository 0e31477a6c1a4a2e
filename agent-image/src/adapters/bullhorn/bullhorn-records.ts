import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { visibleText } from './bullhorn-visible-text.ts';
import type { CrmActivity, CrmEntity, CrmPerson } from '../../ports/crm-provider.ts';

/**
 * Which Bullhorn fields the agent reads, and how they become our types. Data minimisation happens
 * here, by asking only for these fields: a note's comments, a record's comments or description, and
 * every salary, rate or identity-document field are never requested, so they never reach the agent.
 */

/** What identifies a person and their role. `dateLastModified` only orders duplicates. */
export const PERSON_FIELDS: Readonly<Record<CrmEntity, string>> = {
  ClientContact: 'id,firstName,lastName,name,occupation,clientCorporation(id,name),dateLastModified',
  Candidate: 'id,firstName,lastName,name,occupation,companyName,dateLastModified',
};

/** The address fields a search hit is checked against: the index matches more than the exact address. */
export const EMAIL_FIELDS = ['email', 'email2', 'email3'] as const;

/** A search hit: the person, and their addresses to check the hit by. */
export const SEARCH_FIELDS: Readonly<Record<CrmEntity, string>> = {
  ClientContact: `${PERSON_FIELDS.ClientContact},${EMAIL_FIELDS.join(',')}`,
  Candidate: `${PERSON_FIELDS.Candidate},${EMAIL_FIELDS.join(',')}`,
};

/** Whether one of the row's address fields is `address` (normalised, lower case), compared case-insensitively. */
export function hasAddress(row: Record<string, unknown>, address: string): boolean {
  return EMAIL_FIELDS.some((field) => {
    const value = row[field];
    return typeof value === 'string' && value.trim().toLowerCase() === address;
  });
}

/**
 * The record view. A ClientContact's last contact is `dateLastVisit` (writable); a Candidate's is
 * `dateLastComment`, which Bullhorn itself moves to the newest Note about the candidate (read-only).
 */
export const RECORD_FIELDS: Readonly<Record<CrmEntity, string>> = {
  ClientContact: `${PERSON_FIELDS.ClientContact},status,isDeleted,dateLastVisit`,
  Candidate: `${PERSON_FIELDS.Candidate},status,isDeleted,dateLastComment`,
};

export const LAST_CONTACT_FIELD: Readonly<Record<CrmEntity, { name: string; writable: boolean }>> = {
  ClientContact: { name: 'dateLastVisit', writable: true },
  Candidate: { name: 'dateLastComment', writable: false },
};

/** A Note's kind and date only: its comments are the recruiter's words and stay in Bullhorn. */
export const ACTIVITY_FIELDS = 'id,action,dateAdded';

/** Fields of a Note found by its idempotency key. */
export const NOTE_KEY_FIELDS = 'id,externalID,personReference(id)';

const MAX_TEXT = 200;

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const flat = visibleText(value.replace(/[\r\n\t]+/g, ' ')).trim();
  return flat === '' ? null : flat.slice(0, MAX_TEXT);
}

/** Bullhorn ids are integers; ours are their decimal strings. */
export function idOf(value: unknown, what: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  throw new FleetError('integrity', `bullhorn answered without a valid ${what} id`);
}

/** A Bullhorn timestamp (epoch milliseconds) as a Date, or null. */
export function dateOf(value: unknown): Date | null {
  return typeof value === 'number' && Number.isFinite(value) ? new Date(value) : null;
}

export function toPerson(entity: CrmEntity, row: Record<string, unknown>): CrmPerson {
  const parts = [text(row['firstName']), text(row['lastName'])].filter((part): part is string => part !== null);
  const name = parts.length > 0 ? parts.join(' ') : (text(row['name']) ?? '');
  const corporation = row['clientCorporation'];
  const company =
    entity === 'ClientContact'
      ? typeof corporation === 'object' && corporation !== null
        ? text((corporation as { name?: unknown }).name)
        : null
      : text(row['companyName']);
  return { id: idOf(row['id'], entity), entity, name, role: text(row['occupation']), company };
}

export function toActivity(row: Record<string, unknown>): CrmActivity {
  const at = dateOf(row['dateAdded']);
  if (at === null) throw new FleetError('integrity', 'bullhorn note without dateAdded');
  return { id: idOf(row['id'], 'Note'), kind: 'note', action: text(row['action']), at };
}

/** The `data` array of a search or query answer, as objects. */
export function rowsOf(body: Record<string, unknown>, operation: string): Record<string, unknown>[] {
  const data = body['data'];
  if (!Array.isArray(data) || data.some((row) => typeof row !== 'object' || row === null)) {
    throw new FleetError('integrity', `bullhorn ${operation}: answer without a data list`);
  }
  return data as Record<string, unknown>[];
}

/** The `data` object of an entity GET. */
export function rowOf(body: Record<string, unknown>, operation: string): Record<string, unknown> {
  const data = body['data'];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new FleetError('integrity', `bullhorn ${operation}: answer without a data object`);
  }
  return data as Record<string, unknown>;
}

/** The id Bullhorn reports for a created or updated entity (`changedEntityId`). */
export function changedId(body: Record<string, unknown>, entity: string): string {
  return idOf(body['changedEntityId'], entity);
}
