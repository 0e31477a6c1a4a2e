import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import {
  CRM_ENTITIES,
  CRM_ACTIVITY_DEFAULT,
  CRM_ACTIVITY_MAX,
  CRM_NOTE_SUMMARY_MAX,
  type CrmEntity,
  type CrmNote,
  type CrmPerson,
  type CrmPersonRef,
  type CrmProvider,
  type CrmRecord,
  type InteractionNote,
  type LastContactUpdate,
} from '../../ports/crm-provider.ts';
import { bullhornId, emailSearch, noteByExternalId, noteEntitiesOf, noteExternalId, notesOf, searchedAddress } from './bullhorn-queries.ts';
import {
  ACTIVITY_FIELDS,
  LAST_CONTACT_FIELD,
  NOTE_KEY_FIELDS,
  RECORD_FIELDS,
  SEARCH_FIELDS,
  changedId,
  dateOf,
  hasAddress,
  idOf,
  rowOf,
  rowsOf,
  toActivity,
  toPerson,
} from './bullhorn-records.ts';
import { noteHtmlText } from './bullhorn-note-text.ts';
import { visibleText } from './bullhorn-visible-text.ts';
import type { BullhornRest } from './bullhorn-rest.ts';

export interface BullhornCrmProviderConfig {
  rest: BullhornRest;
  /** The Note action for an email interaction; must be in the client's `commentActionList`. Default "Email". */
  noteAction?: string;
  logger: Logger;
}

/** A ClientContact is whom the client works with; a Candidate record of the same person comes second. */
const SEARCH_ORDER: readonly CrmEntity[] = ['ClientContact', 'Candidate'];
/** Search hits read per entity: the exact address among the index's near matches, newest first. */
const SEARCH_HITS = 10;
/** NoteEntity's name for any person (Candidate, ClientContact, CorporateUser). */
const PERSON_TARGET = 'User';

/** CrmProvider over Bullhorn's REST API: search, query, entity GET, PUT (create) and POST (update). */
export class BullhornCrmProvider implements CrmProvider {
  readonly #rest: BullhornRest;
  readonly #noteAction: string;
  readonly #logger: Logger;

  constructor(config: BullhornCrmProviderConfig) {
    this.#rest = config.rest;
    this.#noteAction = config.noteAction ?? 'Email';
    if (this.#noteAction.length === 0 || this.#noteAction.length > 30) throw new FleetError('invalid_input', 'bullhorn note action must be 1-30 characters');
    this.#logger = config.logger.child({ adapter: 'bullhorn' });
  }

  async findPersonByEmail(email: string): Promise<CrmPerson | null> {
    const query = emailSearch(email);
    const address = searchedAddress(email);
    for (const entity of SEARCH_ORDER) {
      const body = await this.#rest.call('search', {
        method: 'GET',
        path: `search/${entity}`,
        query: { query, fields: SEARCH_FIELDS[entity], sort: '-dateLastModified', count: String(SEARCH_HITS) },
      });
      // Bullhorn's index matches a phrase inside a longer address too ("x-ana@…" for "ana@…"): only a record
      // that holds the address itself is the correspondent, or notes land on someone else's record.
      const row = rowsOf(body, 'search').find((hit) => hasAddress(hit, address));
      if (row !== undefined) return toPerson(entity, row);
    }
    return null;
  }

  async getRecord(person: CrmPersonRef, options: { activityLimit?: number } = {}): Promise<CrmRecord> {
    const limit = options.activityLimit ?? CRM_ACTIVITY_DEFAULT;
    if (!Number.isInteger(limit) || limit < 0 || limit > CRM_ACTIVITY_MAX) {
      throw new FleetError('invalid_input', `activity limit must be an integer from 0 to ${CRM_ACTIVITY_MAX}`);
    }
    const id = bullhornId(person.id);
    const row = await this.#readRow(entityOf(person), id, RECORD_FIELDS[person.entity]);
    const recentActivity =
      limit === 0
        ? []
        : rowsOf(
            await this.#rest.call('query notes', {
              method: 'GET',
              path: 'query/Note',
              query: { where: notesOf(id), fields: ACTIVITY_FIELDS, orderBy: '-dateAdded', count: String(limit) },
            }),
            'query notes',
          )
            // A server answering more rows than asked for: the extra ones are not even parsed.
            .slice(0, limit)
            .map(toActivity);
    return {
      ...toPerson(person.entity, row),
      status: statusOf(row['status']),
      lastContactAt: dateOf(row[LAST_CONTACT_FIELD[person.entity].name]),
      recentActivity,
    };
  }

  async appendInteractionNote(note: InteractionNote): Promise<CrmNote> {
    const checked = checkNote(note);
    const personId = bullhornId(note.person.id);
    entityOf(note.person);
    const externalId = noteExternalId(note.idempotencyKey);
    const existing = await this.#findNote(externalId);
    if (existing !== null && existing.personId !== String(personId)) {
      throw new FleetError('conflict', 'idempotency key already used for a note about another person');
    }
    let noteId = existing === null ? null : Number(existing.id);
    if (noteId === null) {
      const created = await this.#rest.call('create note', {
        method: 'PUT',
        path: 'entity/Note',
        body: {
          personReference: { id: personId },
          action: this.#noteAction,
          comments: checked.comments,
          externalID: externalId,
        },
      });
      noteId = Number(changedId(created, 'Note'));
      this.#logger.info('bullhorn note created', { op: 'crm.note', entity: note.person.entity });
    }
    // A crash between the two writes leaves a note not linked to the record: a retry links it.
    await this.#ensureLinked(noteId, personId);
    return { id: String(noteId), personId: String(personId), idempotencyKey: note.idempotencyKey, created: existing === null };
  }

  async findNoteByIdempotencyKey(key: string): Promise<CrmNote | null> {
    const found = await this.#findNote(noteExternalId(key));
    return found === null ? null : { ...found, idempotencyKey: key, created: false };
  }

  async updateLastContact(person: CrmPersonRef, at: Date): Promise<LastContactUpdate> {
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new FleetError('invalid_input', 'last-contact date must be a valid date');
    const id = bullhornId(person.id);
    const field = LAST_CONTACT_FIELD[entityOf(person)];
    const row = await this.#readRow(person.entity, id, `id,isDeleted,${field.name}`);
    const current = dateOf(row[field.name]);
    if (!field.writable || (current !== null && current.getTime() >= at.getTime())) return { lastContactAt: current, written: false };
    await this.#rest.call('update last contact', {
      method: 'POST',
      path: `entity/${person.entity}/${id}`,
      body: { [field.name]: at.getTime() },
    });
    this.#logger.info('bullhorn last contact updated', { op: 'crm.last_contact', entity: person.entity });
    return { lastContactAt: new Date(at.getTime()), written: true };
  }

  async #readRow(entity: CrmEntity, id: number, fields: string): Promise<Record<string, unknown>> {
    const row = rowOf(await this.#rest.call('get record', { method: 'GET', path: `entity/${entity}/${id}`, query: { fields } }), 'get record');
    if (row['isDeleted'] === true) throw new FleetError('not_found', `bullhorn get record: ${entity} is deleted`);
    return row;
  }

  async #findNote(externalId: string): Promise<{ id: string; personId: string } | null> {
    const rows = rowsOf(
      await this.#rest.call('find note', {
        method: 'GET',
        path: 'query/Note',
        query: { where: noteByExternalId(externalId), fields: NOTE_KEY_FIELDS, count: '2' },
      }),
      'find note',
    );
    const [row] = rows;
    if (row === undefined) return null;
    if (rows.length > 1) this.#logger.warn('bullhorn holds two notes with one idempotency key', { op: 'crm.note' });
    const reference = row['personReference'];
    const personId = typeof reference === 'object' && reference !== null ? (reference as { id?: unknown }).id : undefined;
    return { id: idOf(row['id'], 'Note'), personId: idOf(personId, 'person') };
  }

  async #ensureLinked(noteId: number, personId: number): Promise<void> {
    const links = rowsOf(
      await this.#rest.call('find note link', {
        method: 'GET',
        path: 'query/NoteEntity',
        query: { where: noteEntitiesOf(noteId), fields: 'id,targetEntityID,targetEntityName', count: '50' },
      }),
      'find note link',
    );
    if (links.some((link) => link['targetEntityID'] === personId && link['targetEntityName'] === PERSON_TARGET)) return;
    await this.#rest.call('link note', {
      method: 'PUT',
      path: 'entity/NoteEntity',
      body: { note: { id: noteId }, targetEntityID: personId, targetEntityName: PERSON_TARGET },
    });
  }
}

/** The record's status label, bounded and on one line like every other field the model reads. */
function statusOf(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const status = visibleText(value.replace(/[\r\n\t]+/g, ' ')).trim().slice(0, 100);
  return status === '' ? null : status;
}

/** The entity of a reference that may come from untrusted data (an approval, a model proposal). */
function entityOf(person: CrmPersonRef): CrmEntity {
  if (!(CRM_ENTITIES as readonly string[]).includes(person.entity)) throw new FleetError('invalid_input', 'unknown CRM record type');
  return person.entity;
}

/** The note's text: a header line, the subject and the agent's summary. Never an email body. */
function checkNote(note: InteractionNote): { comments: string } {
  assertIdempotencyKey(note.idempotencyKey);
  if (note.direction !== 'inbound' && note.direction !== 'outbound') throw new FleetError('invalid_input', 'note direction must be inbound or outbound');
  if (!(note.occurredAt instanceof Date) || Number.isNaN(note.occurredAt.getTime())) throw new FleetError('invalid_input', 'note date must be a valid date');
  if (typeof note.summary !== 'string' || note.summary.trim() === '' || note.summary.length > CRM_NOTE_SUMMARY_MAX) {
    throw new FleetError('invalid_input', `note summary must be 1-${CRM_NOTE_SUMMARY_MAX} characters`);
  }
  if (typeof note.subject !== 'string' || note.subject.length > 1_000) throw new FleetError('invalid_input', 'note subject must be a line of at most 1 000 characters');
  const subject = note.subject.replace(/[\r\n]+/g, ' ').trim().slice(0, 300);
  const heading = note.direction === 'outbound' ? 'Email sent' : 'Email received';
  return { comments: `${heading} ${note.occurredAt.toISOString()}: ${noteHtmlText(subject)}\n\n${noteHtmlText(note.summary.trim())}\n\n(Recorded by the AI assistant.)` };
}
