// The approvals executor for the kinds beside mail.send, in isolation: real gate, audit log, stores and kill
// switch; an in-test calendar and mailbox; the real Bullhorn adapter against the strict emulator.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { bullhornCrmProviderFromSecret } from '../../../agent-image/src/adapters/bullhorn/bullhorn-from-secret.ts';
import type { CalendarEvent, CalendarProvider, NewEvent } from '../../../agent-image/src/ports/calendar-provider.ts';
import type { MailProvider } from '../../../agent-image/src/ports/mail-provider.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { openCrmLink } from '../../../agent-image/src/services/mail-loop/crm-link.ts';
import { executeApproval } from '../../../agent-image/src/services/runtime/action-executor.ts';
import { SendPipeline } from '../../../agent-image/src/services/runtime/send-pipeline.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { ActionLinks } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { BullhornEmulator } from '../../emulators/bullhorn-emulator.ts';
import { NOW, clientConfig, openTestRuntime, putApproved } from './calendar-runtime-fixture.ts';

/** A calendar that keeps what it was asked to create, found again by key like the real adapters. */
class InTestCalendar implements CalendarProvider {
  readonly created: NewEvent[] = [];
  async freeBusy(): Promise<[]> {
    return [];
  }
  async createEvent(event: NewEvent): Promise<CalendarEvent> {
    this.created.push(event);
    return { id: `ev-${this.created.length}`, title: event.title, start: event.start, end: event.end, attendees: event.attendees, idempotencyKey: event.idempotencyKey };
  }
  async findEventByIdempotencyKey(key: string): Promise<CalendarEvent | null> {
    const index = this.created.findIndex((event) => event.idempotencyKey === key);
    const event = this.created[index];
    return event === undefined ? null : { id: `ev-${index + 1}`, title: event.title, start: event.start, end: event.end, attendees: event.attendees, idempotencyKey: event.idempotencyKey };
  }
}

const config = clientConfig({
  mailbox: 'me@acme.example',
  permissions: { 'calendar.write': true, 'mail.move': true, 'mail.delete': true, 'crm.read': true, 'crm.write': true },
});

describe('the approvals executor beyond mail.send', () => {
  const bullhorn = new BullhornEmulator();
  const calendar = new InTestCalendar();
  const archived: string[] = [];
  let directory: string;
  let context: RuntimeContext;
  let links: ActionLinks;
  let audit: AuditLog;
  let contact: number;

  before(async () => {
    await bullhorn.start();
    contact = bullhorn.addClientContact({ firstName: 'Kim', lastName: 'Berger', email: 'kim@partner.example' });
    directory = await mkdtemp(join(tmpdir(), 'executor-'));
    ({ context, audit } = await openTestRuntime(directory, config));
    const secret = JSON.stringify({ client_id: bullhorn.oauth.clientId, client_secret: bullhorn.oauth.clientSecret, refresh_token: bullhorn.issueRefreshToken() });
    const build = (raw: string) => bullhornCrmProviderFromSecret({ raw, writeBack: async () => 'written' as const, endpoints: { authUrl: bullhorn.authUrl, loginUrl: bullhorn.loginUrl }, logger: createSilentLogger() });
    const source = { readSecretData: async () => ({ value: secret }) } as unknown as SecretSource;
    const crm = await openCrmLink({ context, connector: { name: 'bullhorn', provider: build(secret), secret: 'bullhorn', rebuild: build }, source: () => source });
    const mail = { archive: async (id: string) => void archived.push(id) } as unknown as MailProvider;
    links = { mail, calendar, crm };
  });
  after(async () => {
    await bullhorn.stop();
    await audit.close();
    await rm(directory, { recursive: true, force: true });
  });

  let counter = 0;
  const approved = (args: Record<string, unknown>): Promise<StoredApproval> => putApproved(context, args, { id: `ap_${++counter}`, key: `key-${counter}` });

  test('an approved event is created once, in the client’s zone, however often the record runs', async () => {
    const entry = await approved({ kind: 'calendar.write', operation: 'create', title: 'Review', start: '2026-06-02T10:00:00+02:00', participants: ['kim@partner.example'] });
    assert.equal(await executeApproval(context, links, entry), 'done');
    assert.equal(await executeApproval(context, links, entry), 'done');
    assert.equal(calendar.created.length, 1);
    assert.equal(calendar.created[0]?.timeZone, 'Europe/Berlin');
    assert.equal(calendar.created[0]?.end.toISOString(), '2026-06-02T09:00:00.000Z', 'an hour when no end is given');
    const writes = (await audit.read()).filter((record) => record.action_type === 'calendar_write' && record.result === 'success');
    assert.deepEqual(writes.map((record) => [record.approved_by, record.parameters['existing']]), [['boss', false], ['boss', true]]);
  });

  test('an approved event run twice at once (the decision and a work round) is created once: the second run waits for the first', async () => {
    const entry = await approved({ kind: 'calendar.write', operation: 'create', title: 'Planning', start: '2026-06-03T10:00:00+02:00', participants: ['kim@partner.example'] });
    const own = new InTestCalendar();
    const pipeline = new SendPipeline(context);
    pipeline.attach({ ...links, calendar: own });
    assert.deepEqual(await Promise.all([pipeline.executeApproval(entry), pipeline.executeApproval(entry)]), ['done', 'done']);
    assert.equal(own.created.length, 1);
  });

  test('an approved event whose start has passed by the time it runs, or lies decades ahead, is blocked and audited; nothing created', async () => {
    const before = calendar.created.length;
    for (const start of ['2026-05-20T10:00:00+02:00', '2056-06-02T10:00:00+02:00']) {
      const entry = await approved({ kind: 'calendar.write', operation: 'create', title: 'Review', start, participants: ['kim@partner.example'] });
      assert.equal(await executeApproval(context, links, entry), 'blocked', start);
    }
    assert.equal(calendar.created.length, before);
    // Refused by the gate as it re-decides the approved change (the executor refuses the same if it got there).
    const records = await audit.read();
    for (const start of ['2026-05-20T10:00:00+02:00', '2056-06-02T10:00:00+02:00']) {
      const refusal = records.find((record) => record.parameters['start'] === start && record.parameters['decision'] === 'deny');
      assert.deepEqual(refusal?.parameters['reasons'], ['unparseable'], start);
    }
  });

  test('a cancel on a calendar that cannot edit events is blocked, audited, nothing created', async () => {
    const entry = await approved({ kind: 'calendar.write', operation: 'cancel', eventId: 'ev-1' });
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    assert.equal(calendar.created.length, 1);
    assert.equal(context.approvals.get(entry.record.id)?.execution, 'blocked');
  });

  test('an approved move to the archive archives; any other move or a deletion never runs', async () => {
    assert.equal(await executeApproval(context, links, await approved({ kind: 'mail.move', messageIds: ['m-1', 'm-2'], destination: 'Archive' })), 'done');
    assert.equal(await executeApproval(context, links, await approved({ kind: 'mail.move', messageIds: ['m-3'], destination: 'Elsewhere' })), 'blocked');
    assert.equal(await executeApproval(context, links, await approved({ kind: 'mail.delete', messageIds: ['m-4'] })), 'blocked');
    assert.deepEqual(archived, ['m-1', 'm-2']);
  });

  test('an approved CRM note is written once with the approval’s authority; a deletion never runs', async () => {
    const note = { subject: 'Call', summary: 'Agreed to meet next week.', occurredAt: NOW.toISOString(), idempotencyKey: 'ap-note-1' };
    const entry = await approved({ kind: 'crm.write', operation: 'update', recordType: 'ClientContact', recordId: String(contact), fields: { note, lastContactAt: NOW.toISOString() } });
    assert.equal(await executeApproval(context, links, entry), 'done');
    assert.equal(await executeApproval(context, links, entry), 'done');
    const notes = bullhorn.notes().filter((row) => (row['personReference'] as { id: number }).id === contact);
    assert.equal(notes.length, 1);
    assert.equal(bullhorn.record('ClientContact', contact)?.['dateLastVisit'], NOW.getTime());
    const written = (await audit.read()).filter((record) => record.action_type === 'crm_write' && record.result === 'success' && record.parameters['operation'] === 'append_note');
    assert.deepEqual(written.map((record) => [record.approval_status, record.approved_by, record.parameters['created']]), [['approved', 'boss', true], ['approved', 'boss', false]]);
    assert.equal(await executeApproval(context, links, await approved({ kind: 'crm.write', operation: 'delete', recordType: 'ClientContact', recordId: String(contact) })), 'blocked');
    assert.equal(bullhorn.record('ClientContact', contact)?.['isDeleted'] === true, false);
  });

  test('after the kill switch nothing runs: the gate refuses every kind', async () => {
    const entry = await approved({ kind: 'calendar.write', operation: 'create', title: 'Late', start: '2026-06-03T10:00:00+02:00', participants: ['kim@partner.example'] });
    context.kill.latch();
    const crmCalls = bullhorn.requests.length;
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    assert.equal(await executeApproval(context, links, await approved({ kind: 'mail.move', messageIds: ['m-9'], destination: 'archive' })), 'blocked');
    assert.equal(calendar.created.length, 1);
    assert.ok(!archived.includes('m-9'));
    assert.equal(bullhorn.requests.length, crmCalls);
    const refused = (await audit.read()).filter((record) => record.action_type === 'policy_denied' && (record.parameters['reasons'] as string[]).includes('killed'));
    assert.equal(refused.length, 2);
  });
});
