import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { CrmPersonRef, CrmProvider, InteractionNote } from '../../agent-image/src/ports/crm-provider.ts';
import { ProviderAuthError, ProviderThrottledError } from '../../agent-image/src/ports/mail-provider.ts';

/**
 * One behaviour suite for the CrmProvider port, run against every adapter pointed at its emulator
 * (Bullhorn today; HubSpot and Salesforce must pass it too), so adapters and emulators cannot drift.
 */

export interface PersonSeed {
  firstName: string;
  lastName: string;
  email: string;
  secondEmail?: string;
  role?: string;
  /** Contact: the client company; candidate: the current employer. */
  company?: string;
  /** Free text on the record (a recruiter's comments): must never reach the agent. */
  privateText: string;
  deleted?: boolean;
}

/** A note as the CRM stores it, with whether it shows on the person's record. */
export interface StoredNote {
  id: string;
  text: string;
  linkedTo: string[];
}

export interface CrmHarness {
  provider: CrmProvider;
  addContact(seed: PersonSeed): Promise<CrmPersonRef>;
  /** `salary` is a pay field the agent must never read. */
  addCandidate(seed: PersonSeed & { salary: number }): Promise<CrmPersonRef>;
  /** An activity a human recorded, with text the agent must never read. */
  addActivity(person: CrmPersonRef, activity: { action: string; text: string; at: Date }): Promise<void>;
  notes(): StoredNote[];
  /** The next note write is committed, but its answer is lost (a timeout after the fact). */
  loseNextNoteAnswer(): void;
  expireSessions(): void;
  revokeConsent(): void;
  throttle(count: number, retryAfterSeconds: number): void;
  stop(): Promise<void>;
}

const dana = (extra: Partial<PersonSeed> = {}): PersonSeed => ({
  firstName: 'Dana',
  lastName: 'Reyes',
  email: 'dana.reyes@customer.example',
  role: 'Head of Talent',
  company: 'Customer Corp',
  privateText: 'PRIVATE: difficult negotiator, see fee dispute',
  ...extra,
});

const sam = (extra: Partial<PersonSeed> = {}) => ({
  firstName: 'Sam',
  lastName: 'Okafor',
  email: 'sam.okafor@mail.example',
  role: 'Backend Engineer',
  company: 'Current Employer Ltd',
  privateText: 'PRIVATE: wants 20% more, health issue',
  salary: 987_654,
  ...extra,
});

const note = (person: CrmPersonRef, key: string, extra: Partial<InteractionNote> = {}): InteractionNote => ({
  person,
  direction: 'outbound',
  subject: 'Re: Interview slots',
  summary: 'Confirmed Tuesday 10:00 for the interview.',
  occurredAt: new Date(Date.now() - 60_000),
  idempotencyKey: key,
  ...extra,
});

const isCode = (code: string) => (e: unknown) => e instanceof FleetError && e.code === code;

export function crmProviderContract(adapter: string, createHarness: () => Promise<CrmHarness>): void {
  describe(`CrmProvider contract: ${adapter}`, () => {
    let h: CrmHarness;
    beforeEach(async () => {
      h = await createHarness();
    });
    afterEach(async () => {
      await h.stop();
    });

    it('finds a client contact by email, case-insensitively, with name, role and company', async () => {
      const ref = await h.addContact(dana());
      const found = await h.provider.findPersonByEmail('  Dana.Reyes@Customer.EXAMPLE ');
      assert.deepEqual(found, { id: ref.id, entity: 'ClientContact', name: 'Dana Reyes', role: 'Head of Talent', company: 'Customer Corp' });
    });

    it('finds a candidate, also by a secondary address; unknown and deleted people are null', async () => {
      const ref = await h.addCandidate(sam({ secondEmail: 'sam@home.example' }));
      await h.addContact(dana({ email: 'gone@customer.example', deleted: true }));
      const expected = { id: ref.id, entity: 'Candidate', name: 'Sam Okafor', role: 'Backend Engineer', company: 'Current Employer Ltd' };
      assert.deepEqual(await h.provider.findPersonByEmail('sam.okafor@mail.example'), expected);
      assert.deepEqual(await h.provider.findPersonByEmail('sam@home.example'), expected);
      assert.equal(await h.provider.findPersonByEmail('nobody@nowhere.example'), null);
      assert.equal(await h.provider.findPersonByEmail('gone@customer.example'), null);
    });

    it('a client contact wins over a candidate record of the same address', async () => {
      await h.addCandidate(sam({ email: 'both@customer.example' }));
      const contact = await h.addContact(dana({ email: 'both@customer.example' }));
      assert.deepEqual(await h.provider.findPersonByEmail('both@customer.example'), { ...contact, name: 'Dana Reyes', role: 'Head of Talent', company: 'Customer Corp' });
    });

    it('rejects an invalid address or record reference before asking the CRM', async () => {
      for (const bad of ['not an address', 'a"b@x.example', '', 'x@y']) {
        await assert.rejects(h.provider.findPersonByEmail(bad), isCode('invalid_input'));
      }
      await assert.rejects(h.provider.getRecord({ id: '12; drop', entity: 'Candidate' }), isCode('invalid_input'));
      await assert.rejects(h.provider.getRecord({ id: '12', entity: 'Invoice' as 'Candidate' }), isCode('invalid_input'));
    });

    it('a record is data-minimised: no free text, no pay, no note text; activity newest first and bounded', async () => {
      const ref = await h.addCandidate(sam());
      const base = Date.now() - 10 * 86_400_000;
      for (let day = 0; day < 4; day++) {
        await h.addActivity(ref, { action: day % 2 === 0 ? 'Call' : 'Email', text: `PRIVATE call notes ${day}`, at: new Date(base + day * 86_400_000) });
      }
      const record = await h.provider.getRecord(ref, { activityLimit: 3 });
      assert.equal(record.name, 'Sam Okafor');
      assert.equal(record.status, 'Active');
      assert.deepEqual(record.recentActivity.map((a) => [a.action, a.at.getTime()]), [
        ['Email', base + 3 * 86_400_000],
        ['Call', base + 2 * 86_400_000],
        ['Email', base + 86_400_000],
      ]);
      const person = await h.provider.findPersonByEmail('sam.okafor@mail.example');
      for (const shown of [JSON.stringify(record), JSON.stringify(person)]) {
        assert.doesNotMatch(shown, /PRIVATE|987654|987 654/);
      }
      assert.deepEqual(Object.keys(record).sort(), ['company', 'entity', 'id', 'lastContactAt', 'name', 'recentActivity', 'role', 'status']);
      assert.deepEqual(Object.keys(record.recentActivity[0] ?? {}).sort(), ['action', 'at', 'id', 'kind']);
      assert.equal((await h.provider.getRecord(ref, { activityLimit: 0 })).recentActivity.length, 0);
      await assert.rejects(h.provider.getRecord(ref, { activityLimit: 51 }), isCode('invalid_input'));
      await assert.rejects(h.provider.getRecord({ id: '987654321', entity: 'Candidate' }), isCode('not_found'));
    });

    it('appends a note exactly once per idempotency key, linked to the person, findable by its key', async () => {
      const ref = await h.addContact(dana());
      assert.equal(await h.provider.findNoteByIdempotencyKey('crm-note-1'), null);
      const first = await h.provider.appendInteractionNote(note(ref, 'crm-note-1'));
      const again = await h.provider.appendInteractionNote(note(ref, 'crm-note-1', { summary: 'A retry with other words.' }));
      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.equal(again.id, first.id);
      assert.equal(first.personId, ref.id);
      const stored = h.notes();
      assert.equal(stored.length, 1);
      assert.deepEqual(stored[0]?.linkedTo, [ref.id]);
      assert.match(stored[0]?.text ?? '', /Interview slots[\s\S]*Confirmed Tuesday 10:00/);
      const found = await h.provider.findNoteByIdempotencyKey('crm-note-1');
      assert.deepEqual(found, { id: first.id, personId: ref.id, idempotencyKey: 'crm-note-1', created: false });
      const record = await h.provider.getRecord(ref);
      assert.deepEqual(record.recentActivity.map((a) => a.id), [first.id]);
    });

    it('a note whose answer was lost is not written twice when retried', async () => {
      const ref = await h.addCandidate(sam());
      h.loseNextNoteAnswer();
      await assert.rejects(h.provider.appendInteractionNote(note(ref, 'crm-lost-1')), (e: unknown) => e instanceof FleetError && e.retryable);
      const retried = await h.provider.appendInteractionNote(note(ref, 'crm-lost-1'));
      assert.equal(retried.created, false);
      const stored = h.notes();
      assert.equal(stored.length, 1);
      assert.deepEqual(stored[0]?.linkedTo, [ref.id]);
    });

    it('a key reused for another person is a conflict; invalid notes are refused; nothing is written', async () => {
      const contact = await h.addContact(dana());
      const candidate = await h.addCandidate(sam());
      await h.provider.appendInteractionNote(note(contact, 'crm-reuse'));
      await assert.rejects(h.provider.appendInteractionNote(note(candidate, 'crm-reuse')), isCode('conflict'));
      const invalid: InteractionNote[] = [
        note(candidate, "bad key'"),
        note(candidate, 'crm-empty', { summary: '  ' }),
        note(candidate, 'crm-long', { summary: 'x'.repeat(2_001) }),
        note(candidate, 'crm-date', { occurredAt: new Date(Number.NaN) }),
        note({ id: 'abc', entity: 'Candidate' }, 'crm-bad-id'),
      ];
      for (const bad of invalid) await assert.rejects(h.provider.appendInteractionNote(bad), isCode('invalid_input'));
      assert.equal(h.notes().length, 1);
    });

    it('updates a contact’s last-contact date, never backwards; a retry writes nothing', async () => {
      const ref = await h.addContact(dana());
      const at = new Date(Date.now() - 3_600_000);
      assert.deepEqual(await h.provider.updateLastContact(ref, at), { lastContactAt: at, written: true });
      assert.equal((await h.provider.getRecord(ref)).lastContactAt?.getTime(), at.getTime());
      assert.deepEqual(await h.provider.updateLastContact(ref, at), { lastContactAt: at, written: false });
      const earlier = new Date(at.getTime() - 86_400_000);
      assert.deepEqual(await h.provider.updateLastContact(ref, earlier), { lastContactAt: at, written: false });
      assert.equal((await h.provider.getRecord(ref)).lastContactAt?.getTime(), at.getTime());
    });

    it('after a note and a last-contact update, every kind of record shows the contact', async () => {
      for (const ref of [await h.addContact(dana()), await h.addCandidate(sam())]) {
        const at = new Date(Date.now() - 60_000);
        await h.provider.appendInteractionNote(note(ref, `crm-last-${ref.id}`, { occurredAt: at }));
        const update = await h.provider.updateLastContact(ref, at);
        assert.ok((update.lastContactAt?.getTime() ?? 0) >= at.getTime(), `${ref.entity} last contact moved`);
        assert.ok(((await h.provider.getRecord(ref)).lastContactAt?.getTime() ?? 0) >= at.getTime());
      }
    });

    it('an expired session is renewed transparently', async () => {
      const ref = await h.addContact(dana());
      await h.provider.getRecord(ref);
      h.expireSessions();
      assert.equal((await h.provider.getRecord(ref)).id, ref.id);
      await h.provider.appendInteractionNote(note(ref, 'crm-after-expiry'));
      assert.equal(h.notes().length, 1);
    });

    it('revoked consent is a ProviderAuthError (revoked) and writes nothing', async () => {
      const ref = await h.addContact(dana());
      await h.provider.findPersonByEmail('dana.reyes@customer.example');
      h.revokeConsent();
      await assert.rejects(
        h.provider.appendInteractionNote(note(ref, 'crm-revoked')),
        (e: unknown) => e instanceof ProviderAuthError && e.kind === 'revoked' && e.retryable === false,
      );
      await assert.rejects(h.provider.findPersonByEmail('dana.reyes@customer.example'), (e: unknown) => e instanceof ProviderAuthError && e.kind === 'revoked');
      assert.equal(h.notes().length, 0);
    });

    it('429 is a ProviderThrottledError with retryAfterMs, writes nothing, and the next call succeeds', async () => {
      const ref = await h.addContact(dana());
      await h.provider.getRecord(ref);
      h.throttle(1, 7);
      await assert.rejects(
        h.provider.appendInteractionNote(note(ref, 'crm-throttled')),
        (e: unknown) => e instanceof ProviderThrottledError && e.status === 429 && e.retryAfterMs === 7000 && e.retryable,
      );
      assert.equal(h.notes().length, 0);
      await h.provider.appendInteractionNote(note(ref, 'crm-throttled'));
      assert.equal(h.notes().length, 1);
    });
  });
}
