// The agent's calendar and CRM work in-process, on Gmail and Outlook: a scheduling confirmation and its
// event as ONE approval (exactly one event after approval, none when rejected or killed); a Bullhorn note
// per sent email, exactly once; a revoked Bullhorn grant pauses CRM work only, alerts the admins, and a
// newly stored secret resumes it; an approved update and an approved cancel of the agent's event run on the
// emulated calendar once, and a cancel of a meeting someone else organised is refused and audited.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { BullhornEmulator } from '../../emulators/bullhorn-emulator.ts';
import { agentBed } from '../../helpers/agent-bed.ts';
import { ADMIN, KNOWN, clientConfig, uniqueClient, type AgentUnderTest, type MailboxUnderTest, type ProviderKind } from './agent-harness.ts';
import { CALENDAR_CRM_PERMISSIONS as PERMISSIONS, calendarCrmScript } from './calendar-crm-script.ts';
import { calendarMailbox, holdCalendarWrite, type CalendarMailbox } from './calendar-edit-bed.ts';

const NEWCOMER = 'dana@newco.example';
const OTHER = 'lee@newco.example';
const ZONE = 'Europe/Berlin';
const count = (records: AuditRecord[], type: string, result?: string, operation?: string) =>
  records.filter((r) => r.action_type === type && (result === undefined || r.result === result) && (operation === undefined || r.parameters['operation'] === operation)).length;

interface ApprovalEntry {
  id: string;
  recipients: string[];
  reasons: string[];
  bodyPreview: string;
  event: { title: string; start: string; end: string | null; timeZone: string; attendees: string[] } | null;
}

for (const kind of ['gmail', 'outlook'] as ProviderKind[]) {
  describe(`calendar events and CRM notes on ${kind}`, () => {
    const bed = agentBed();
    let bullhorn: BullhornEmulator;
    /** The known contact's record in the CRM: its free text must never reach the model. */
    let contact: number;
    before(async () => {
      bed.anthropic.useScript(calendarCrmScript);
      bullhorn = new BullhornEmulator();
      await bullhorn.start();
      bed.onTeardown(() => bullhorn.stop());
      contact = bullhorn.addClientContact({ firstName: 'Kim', lastName: 'Berger', email: KNOWN, occupation: 'Head of Talent', company: 'Partner GmbH', comments: 'private: salary talks' });
    });

    /** An agent with calendar and CRM granted, its mailbox and the Bullhorn secret stored, first sync taken. */
    async function fresh(own?: CalendarMailbox): Promise<{ agent: AgentUnderTest; mailbox: MailboxUnderTest }> {
      const box = own ?? (await bed.newMailbox(kind));
      const mailbox: MailboxUnderTest = { ...box, endpoints: { ...box.endpoints, bullhornAuthUrl: bullhorn.authUrl, bullhornLoginUrl: bullhorn.loginUrl } };
      const config = clientConfig(uniqueClient(), mailbox.mailbox, kind, { permissions: PERMISSIONS, timezone: ZONE });
      const agent = await bed.startAgent({ config, mailbox });
      await bed.vault.store.writeSecret(agent.id, 'bullhorn', bullhornSecret());
      assert.equal(await agent.introduce(), 204);
      await agent.runtime.tick();
      return { agent, mailbox };
    }

    function bullhornSecret(): string {
      return JSON.stringify({ client_id: bullhorn.oauth.clientId, client_secret: bullhorn.oauth.clientSecret, refresh_token: bullhorn.issueRefreshToken() });
    }

    async function pending(agent: AgentUnderTest): Promise<ApprovalEntry[]> {
      return ((await agent.call('GET', '/v1/approvals?status=pending')).json as { approvals: ApprovalEntry[] }).approvals;
    }

    async function schedulingApproval(agent: AgentUnderTest, mailbox: MailboxUnderTest, subject: string): Promise<ApprovalEntry> {
      await mailbox.seed({ from: NEWCOMER, subject, text: 'Can we meet on Tuesday at 10?' });
      await agent.runtime.tick();
      const approvals = (await pending(agent)).filter((entry) => entry.recipients.includes(NEWCOMER));
      assert.equal(approvals.length, 1, 'the confirmation and its event are one approval');
      return approvals[0] as ApprovalEntry;
    }

    test('a scheduling confirmation and its event are one approval; approving creates exactly one event', async () => {
      const { agent, mailbox } = await fresh();
      const approval = await schedulingApproval(agent, mailbox, 'Interview');
      assert.ok(approval.reasons.includes('new_contact'), 'the newcomer is a new contact for the email and the event');
      assert.match(approval.bodyPreview, /I confirm .+ and look forward to it/);
      assert.ok(approval.event, 'the approval shows the event beside the email');
      assert.equal(approval.event.timeZone, ZONE);
      assert.deepEqual([...approval.event.attendees].sort(), [NEWCOMER, mailbox.mailbox].sort());
      assert.match(approval.event.start, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\+0[12]:00$/, 'the time in the client’s zone');
      assert.equal(mailbox.calendarEvents().length, 0, 'nothing is created before the approval');
      assert.equal(mailbox.sent().length, 0);

      const decided = await agent.call('POST', `/v1/approvals/${approval.id}/decision`, { decision: 'approve', by: 'boss' });
      assert.equal(decided.status, 200, decided.text);
      const events = mailbox.calendarEvents();
      assert.equal(events.length, 1);
      assert.deepEqual([...(events[0]?.attendees ?? [])].sort(), [NEWCOMER, mailbox.mailbox].sort());
      assert.equal(events[0]?.timeZone, ZONE);
      assert.equal(events[0]?.start.getTime(), Date.parse(approval.event.start));
      assert.equal(events[0]?.end.getTime(), Date.parse(approval.event.end ?? ''));
      assert.deepEqual(mailbox.sent().map((mail) => mail.to), [[NEWCOMER]]);

      await agent.runtime.tick();
      await agent.runtime.tick();
      assert.equal(mailbox.calendarEvents().length, 1, 'exactly one event, whatever the rounds after');
      assert.equal(mailbox.sent().length, 1);
      const records = await agent.auditRecords();
      const created = records.filter((r) => r.action_type === 'calendar_write' && r.result === 'success');
      assert.equal(created.length, 1);
      assert.equal(created[0]?.approved_by, 'boss');
      assert.equal(created[0]?.approval_status, 'approved');
    });

    test('an approved update and an approved cancel of the agent’s event run once; a cancel of someone else’s meeting is refused and audited', async () => {
      const calendar = await calendarMailbox(kind);
      bed.onTeardown(() => calendar.stop());
      const { agent, mailbox } = await fresh(calendar);
      const confirmation = await schedulingApproval(agent, mailbox, 'Interview');
      assert.equal((await agent.call('POST', `/v1/approvals/${confirmation.id}/decision`, { decision: 'approve', by: 'boss' })).status, 200);
      const [eventId] = calendar.createdIds();
      assert.ok(eventId !== undefined);
      const created = calendar.eventNow(eventId);
      assert.ok(created !== null);
      const decide = async (args: Record<string, unknown>) => {
        const id = await holdCalendarWrite(agent, { kind: 'calendar.write', eventId, ...args });
        const decided = await agent.call('POST', `/v1/approvals/${id}/decision`, { decision: 'approve', by: 'boss' });
        assert.equal(decided.status, 200, decided.text);
      };

      const later = new Date(created.start.getTime() + 86_400_000);
      await decide({ operation: 'update', title: 'Interview (moved)', start: later.toISOString(), participants: [OTHER] });
      await agent.runtime.tick();
      const moved = calendar.eventNow(eventId);
      assert.equal(moved?.title, 'Interview (moved)');
      assert.equal(moved?.start.getTime(), later.getTime());
      assert.equal(moved?.end.getTime(), later.getTime() + (created.end.getTime() - created.start.getTime()), 'the length is kept');
      assert.deepEqual([...(moved?.attendees ?? [])].sort(), [...created.attendees, OTHER].sort());
      assert.deepEqual(calendar.changes(), [{ id: eventId, operation: 'update', added: [OTHER], notified: true }]);

      await decide({ operation: 'cancel', description: 'Sorry, we have to cancel.' });
      await agent.runtime.tick();
      assert.equal(calendar.eventNow(eventId), null);
      assert.deepEqual(calendar.changes().map((c) => [c.operation, c.notified]), [['update', true], ['cancel', true]]);

      const foreign = calendar.addForeignEvent('ceo@elsewhere.example', later, new Date(later.getTime() + 3_600_000));
      const refusedId = await holdCalendarWrite(agent, { kind: 'calendar.write', operation: 'cancel', eventId: foreign });
      assert.equal((await agent.call('POST', `/v1/approvals/${refusedId}/decision`, { decision: 'approve', by: 'boss' })).status, 200);
      await agent.runtime.tick();
      assert.ok(calendar.eventNow(foreign) !== null, 'someone else’s meeting stands');
      assert.equal(calendar.changes().length, 2, 'nothing was sent for it');

      const records = (await agent.auditRecords()).filter((r) => r.action_type === 'calendar_write');
      const of = (id: string) => records.filter((r) => r.parameters['event_id'] === id).map((r) => [r.parameters['operation'], r.result, r.approved_by]);
      // The create's intent is written before the event has an id.
      assert.deepEqual(of(eventId), [
        ['create', 'success', 'boss'],
        ['update', 'intended', 'boss'],
        ['update', 'success', 'boss'],
        ['cancel', 'intended', 'boss'],
        ['cancel', 'success', 'boss'],
      ]);
      assert.deepEqual(of(foreign), [['cancel', 'failure', 'boss']]);
      assert.match(String(records.find((r) => r.parameters['event_id'] === foreign)?.parameters['error']), /organised by someone else/);
    });

    test('a rejected confirmation sends nothing and creates no event', async () => {
      const { agent, mailbox } = await fresh();
      const approval = await schedulingApproval(agent, mailbox, 'Call');
      const decided = await agent.call('POST', `/v1/approvals/${approval.id}/decision`, { decision: 'reject', by: 'boss', reason: 'not now' });
      assert.equal(decided.status, 200, decided.text);
      await agent.runtime.tick();
      assert.equal(mailbox.calendarEvents().length, 0);
      assert.equal(mailbox.sent().length, 0);
      assert.equal(count(await agent.auditRecords(), 'calendar_write'), 0);
    });

    test('after the kill switch, an approval runs neither the email nor the event, and calendar and CRM are left alone', async () => {
      const { agent, mailbox } = await fresh();
      const approval = await schedulingApproval(agent, mailbox, 'Lunch');
      assert.equal((await agent.call('POST', '/v1/kill', { reason: 'incident', by: 'ops' })).status, 204);
      const crmCalls = bullhorn.requests.length;
      await agent.call('POST', `/v1/approvals/${approval.id}/decision`, { decision: 'approve', by: 'boss' });
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 1', text: 'We received the invoice. Thanks!' });
      await agent.runtime.tick();
      assert.equal(mailbox.calendarEvents().length, 0);
      assert.equal(mailbox.sent().length, 0);
      assert.equal(bullhorn.requests.length, crmCalls, 'no CRM call after the kill');
      assert.equal(count(await agent.auditRecords(), 'calendar_write'), 0);
    });

    test('each sent email gets one CRM note (the drafter sees role and company only), exactly once across a lost answer and a restart', async () => {
      const started = await fresh();
      const { mailbox } = started;
      let agent = started.agent;
      const notesOf = () => bullhorn.notes().filter((note) => (note['personReference'] as { id: number }).id === contact);
      const before = notesOf().length;
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 1', text: 'We received the invoice. Thanks!' });
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 2', text: 'We received the invoice 2. Thanks!' });
      await agent.runtime.tick();
      assert.equal(mailbox.sent().length, 2);
      assert.equal(notesOf().length - before, 2, 'one note per sent email');
      const drafted = bed.anthropic.received.filter((request) => request.tool_choice?.name === 'draft_reply').at(-1);
      const system = JSON.stringify(drafted?.system ?? '');
      const user = JSON.stringify(drafted?.messages ?? []);
      // The record is data others may have written (CRM records are often made from inbound mail): fenced in the user message, never a trusted note.
      assert.doesNotMatch(system, /Head of Talent|Partner GmbH/);
      assert.match(user, /records about the correspondent[^]*untrusted_email_[0-9a-f]{32}[^]*Kim Berger, Head of Talent at Partner GmbH/);
      assert.doesNotMatch(system + user, /salary/);
      assert.ok(bullhorn.requestedFields().every((fields) => !/comments|salary|Rate/.test(fields)), 'no free text or pay field is ever read');
      for (const note of notesOf().slice(before)) {
        assert.match(String(note['comments']), /^Email sent .+: Re: Invoice [12]/);
        assert.doesNotMatch(String(note['comments']), /We received the invoice/, 'the note never carries the body');
      }
      assert.ok(Number(bullhorn.record('ClientContact', contact)?.['dateLastVisit']) > 0, 'the last contact follows the note');

      // The note is committed but its answer lost (a gateway error): backed off, asked again, still one note.
      bullhorn.failNextWrite({ entity: 'Note', commit: true, status: 502 });
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 3', text: 'We received the invoice 3. Thanks!' });
      await agent.runtime.tick();
      assert.equal(notesOf().length - before, 3);
      agent = await agent.restart();
      bed.track(agent);
      agent.clock.now = new Date(Date.now() + 120_000);
      assert.equal(await agent.introduce(), 204);
      await agent.runtime.tick();
      await agent.runtime.tick();
      assert.equal(notesOf().length - before, 3, 'no second note for any send');
      const records = await agent.auditRecords();
      assert.equal(count(records, 'crm_write', 'success', 'append_note'), 3);
      assert.equal(new Set(notesOf().slice(before).map((note) => note['externalID'])).size, 3);
      assert.equal(mailbox.sent().length, 3);
    });

    test('a revoked Bullhorn grant pauses CRM work only and alerts the admins; a newly stored secret resumes it', async () => {
      const { agent, mailbox } = await fresh();
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 4', text: 'We received the invoice 4. Thanks!' });
      await agent.runtime.tick();
      const notes = bullhorn.notes().length;
      bullhorn.revokeConsent();
      bullhorn.expireSessions();
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 5', text: 'We received the invoice 5. Thanks!' });
      await agent.runtime.tick();
      const subjects = mailbox.sent().map((mail) => mail.subject);
      assert.ok(subjects.some((subject) => /Invoice 5/.test(subject)), 'email work goes on');
      const alert = mailbox.sent().filter((mail) => mail.to.includes(ADMIN) && /lost access to the CRM/.test(mail.subject));
      assert.equal(alert.length, 1, 'the admins are alerted once');
      let records = await agent.auditRecords();
      assert.equal(records.filter((r) => r.action_type === 'pause' && r.target === 'crm').length, 1);
      assert.equal(bullhorn.notes().length, notes, 'no note while paused');
      assert.equal(records.filter((r) => r.action_type === 'pause' && r.target !== 'crm').length, 0, 'mail work is not paused');

      const calls = bullhorn.requests.length;
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 6', text: 'We received the invoice 6. Thanks!' });
      await agent.runtime.tick();
      assert.equal(bullhorn.requests.length, calls, 'no CRM call while paused');

      await bed.vault.store.writeSecret(agent.id, 'bullhorn', bullhornSecret());
      await agent.runtime.tick();
      records = await agent.auditRecords();
      assert.equal(records.filter((r) => r.action_type === 'resume' && r.target === 'crm').length, 1);
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 7', text: 'We received the invoice 7. Thanks!' });
      await agent.runtime.tick();
      assert.equal(bullhorn.notes().length, notes + 3, 'the notes owed while paused (5, 6) are written once resumed, then 7');
      assert.equal(count(await agent.auditRecords(), 'crm_write', 'success', 'append_note'), 4, 'one note for each of Invoice 4 to 7');
    });
  });
}
