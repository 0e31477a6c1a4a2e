/**
 * The client's CRM as the agent sees it: who a correspondent is, what happened with them lately, and a
 * note of each email interaction. Our own small types; adapters: BullhornCrmProvider (HubSpot and
 * Salesforce must pass the same contract suite). Nothing here deletes, and nothing hands the model a
 * note's text or a pay field: records are data-minimised by the adapter, not by the caller.
 *
 * Errors: FleetError (`invalid_input`, `not_found`, `unavailable`, ...), ProviderAuthError (kind
 * `revoked` pauses CRM work) and ProviderThrottledError (back off `retryAfterMs`), from mail-provider.ts.
 */

/** The kinds of person record the agent deals with. Bullhorn's names; other CRMs map onto them. */
export const CRM_ENTITIES = ['ClientContact', 'Candidate'] as const;
export type CrmEntity = (typeof CRM_ENTITIES)[number];

/** Enough to address one person record. */
export interface CrmPersonRef {
  /** The CRM's record id, as a string. */
  id: string;
  entity: CrmEntity;
}

/** A person found by email: identity and role only (what the drafter may see). */
export interface CrmPerson extends CrmPersonRef {
  /** Display name, e.g. "Dana Reyes". */
  name: string;
  /** Job title, when the record has one. */
  role: string | null;
  /** The company they work for (a contact's client company, a candidate's current employer). */
  company: string | null;
}

/** One recent activity on a record: what kind and when, never its text. */
export interface CrmActivity {
  /** The CRM's id of the activity (a Bullhorn Note id). */
  id: string;
  kind: 'note';
  /** The CRM's action label ("Email", "Call", ...), when set. */
  action: string | null;
  at: Date;
}

/** A person's record, data-minimised: no notes' text, no salary, rate, comment or free-text fields. */
export interface CrmRecord extends CrmPerson {
  /** The record's status label ("Active", "New Lead", ...), when set. */
  status: string | null;
  /** When the person was last contacted, as the CRM records it. */
  lastContactAt: Date | null;
  /** Most recent first, at most the limit asked for. */
  recentActivity: CrmActivity[];
}

/** A note of one email interaction with a person. */
export interface InteractionNote {
  person: CrmPersonRef;
  /** `inbound` (they wrote) or `outbound` (the agent sent). */
  direction: 'inbound' | 'outbound';
  /** The email's subject (a line, not a body). */
  subject: string;
  /** Short neutral summary written by the agent; never the email body itself. At most 2 000 characters. */
  summary: string;
  /** When the email was sent or received. */
  occurredAt: Date;
  /** Same key → same note: a retry (or a restart after a crash) never adds a second one. */
  idempotencyKey: string;
}

/** A note as stored in the CRM. */
export interface CrmNote {
  id: string;
  /** The id of the person the note is about. */
  personId: string;
  idempotencyKey: string;
  /** False when a note with this key already existed and was returned instead of adding one. */
  created: boolean;
}

export interface LastContactUpdate {
  /** The record's last-contact date after the call. */
  lastContactAt: Date | null;
  /**
   * False when the record already showed this date or a later one (never moved backwards), and where
   * the CRM derives the date itself (a Bullhorn Candidate's from its newest Note).
   */
  written: boolean;
}

/** Default and maximum number of activities `getRecord` returns. */
export const CRM_ACTIVITY_DEFAULT = 10;
export const CRM_ACTIVITY_MAX = 50;
/** Longest note summary an adapter accepts. */
export const CRM_NOTE_SUMMARY_MAX = 2_000;

export interface CrmProvider {
  /**
   * The person with this email address (any of their addresses), or null. When several records match,
   * a ClientContact wins over a Candidate, then the most recently changed. Deleted records never match.
   * Invalid address → FleetError `invalid_input` before any request.
   */
  findPersonByEmail(email: string): Promise<CrmPerson | null>;
  /**
   * The record and its most recent activity (default 10, at most 50). Unknown id → FleetError `not_found`.
   */
  getRecord(person: CrmPersonRef, options?: { activityLimit?: number }): Promise<CrmRecord>;
  /**
   * Appends a note of an email interaction to the person's record, exactly once per idempotency key:
   * when a note with the key exists (a retry after a lost answer or a crash), it is returned with
   * `created: false`; a key already used for another person → FleetError `conflict`. A write
   * (`crm.write`): call it only after the gate allowed it.
   */
  appendInteractionNote(note: InteractionNote): Promise<CrmNote>;
  /** The note added earlier with this idempotency key, or null. */
  findNoteByIdempotencyKey(key: string): Promise<CrmNote | null>;
  /**
   * Records that the person was contacted at `at`. Never moves the date backwards, so a retry is
   * harmless. Where the CRM derives the date from notes itself, appending the note is what moves it.
   */
  updateLastContact(person: CrmPersonRef, at: Date): Promise<LastContactUpdate>;
}
