// A write that began before the kill must not reach the provider after it: whatever ran before the call
// (a draft read back, a retry's backoff, an audited intent) may outlast the kill. The providers the
// mailbox connection hands out check the kill switch at the call itself. Fake providers record calls.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { IDEMPOTENCY_HEADER } from '../../../agent-image/src/domain/idempotency-key.ts';
import { canEditEvents, type CalendarProvider } from '../../../agent-image/src/ports/calendar-provider.ts';
import type { CrmProvider } from '../../../agent-image/src/ports/crm-provider.ts';
import type { Draft, MailProvider } from '../../../agent-image/src/ports/mail-provider.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import { withProviderRetry } from '../../../agent-image/src/services/mail-loop/provider-retry.ts';
import type { Outbox } from '../../../agent-image/src/services/outbox/outbox.ts';
import type { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import type { ApprovalStore } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { Connectors, CrmConnector } from '../../../agent-image/src/services/runtime/connectors.ts';
import { killGuardedConnectors } from '../../../agent-image/src/services/runtime/kill-guarded-providers.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import { MailboxConnection } from '../../../agent-image/src/services/runtime/mailbox-connection.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { ActionLinks, SendPipeline } from '../../../agent-image/src/services/runtime/send-pipeline.ts';

const config = (() => {
  const parsed = parseClientConfig({ client: 'acme', mailbox: 'me@acme.example', timezone: 'Europe/Berlin' });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
})();

/** Records every call by name; `before` runs first (to land a kill mid-call), `fail` makes the next call of a name fail. */
function recorder() {
  const calls: string[] = [];
  const before = new Map<string, () => void>();
  const fail = new Map<string, Error>();
  const call = async <T>(name: string, result: T): Promise<T> => {
    calls.push(name);
    before.get(name)?.();
    const error = fail.get(name);
    if (error !== undefined) {
      fail.delete(name);
      throw error;
    }
    return result;
  };
  return { calls, before, fail, call };
}

function draft(id: string, key: string): Draft {
  return { id, messageId: `m-${id}`, threadId: 't', to: ['kim@partner.example'], cc: [], bcc: [], subject: 'Re: Invoice', body: 'Thanks.', html: null, attachments: 0, idempotencyKey: key, autoSubmitted: null, autoResponseSuppress: null };
}

function fakeMail(r: ReturnType<typeof recorder>): MailProvider {
  return {
    getDraft: (id: string) => r.call('getDraft', draft(id, 'k')),
    createDraft: () => r.call('createDraft', draft('d2', 'k')),
    updateDraft: () => r.call('updateDraft', draft('d2', 'k')),
    deleteDraft: () => r.call('deleteDraft', undefined),
    sendDraft: () => r.call('sendDraft', { id: 'sent-1' }),
    findSentByIdempotencyKey: () => r.call('findSent', null),
    label: () => r.call('label', undefined),
    archive: () => r.call('archive', undefined),
    markRead: () => r.call('markRead', undefined),
    unwatch: () => r.call('unwatch', undefined),
  } as unknown as MailProvider;
}

function fakeCalendar(r: ReturnType<typeof recorder>, editing: boolean): CalendarProvider {
  const base = {
    freeBusy: () => r.call('freeBusy', []),
    findEventByIdempotencyKey: () => r.call('findEvent', null),
    createEvent: () => r.call('createEvent', { id: 'e1' }),
  };
  const edits = { getEvent: () => r.call('getEvent', null), updateEvent: () => r.call('updateEvent', { id: 'e1' }), cancelEvent: () => r.call('cancelEvent', { alreadyCancelled: false }) };
  return (editing ? { ...base, ...edits } : base) as unknown as CalendarProvider;
}

function fakeCrm(r: ReturnType<typeof recorder>): CrmProvider {
  return {
    findPersonByEmail: () => r.call('findPerson', null),
    appendInteractionNote: () => r.call('appendNote', { id: 'n1', created: true }),
    updateLastContact: () => r.call('updateLastContact', { written: true }),
  } as unknown as CrmProvider;
}

const isKilled = (error: unknown) => error instanceof FleetError && error.code === 'killed';

describe('provider writes check the kill switch at the call', () => {
  let dir: string;
  let count = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kill-guarded-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A mailbox connection over fake providers, as the runtime builds it; `links` is what the send pipeline was given. */
  async function connection(drafts: Map<string, string> = new Map()) {
    const r = recorder();
    const kill = new KillSwitch(join(dir, `KILLED-${count++}`));
    let links: ActionLinks | null = null;
    const connectors: Connectors = { providerKind: 'gmail', provider: fakeMail(r), llm: {} as Connectors['llm'], calendar: fakeCalendar(r, true), crm: null };
    const source = { readSecrets: async () => new Map<string, string>() } as unknown as SecretSource;
    const mailbox = new MailboxConnection({
      config,
      factory: async () => connectors,
      source: () => source,
      context: { kill, logger: createSilentLogger() } as unknown as RuntimeContext,
      pipeline: { attach: (attached: ActionLinks | null) => (links = attached) } as unknown as SendPipeline,
      outbox: { recover: async () => ({ reconciled: [], sent: [], pending: [], held: [] }) } as unknown as Outbox,
      approvals: { list: () => [...drafts].map(([key, draftId]) => ({ idempotencyKey: key, draftId, messageId: 'msg-1' })) } as unknown as ApprovalStore,
      state: { unfinished: () => [] } as unknown as AgentStateStore,
      kill,
      logger: createSilentLogger(),
      now: () => new Date('2026-06-01T08:00:00Z'),
      onAuthFailure: async () => undefined,
      onConnected: () => undefined,
    });
    await mailbox.connect();
    assert.ok(links !== null);
    return { r, kill, mailbox, links: links as ActionLinks };
  }

  test('a label whose retry waits out a backoff during which the kill lands is not written', async () => {
    const { r, kill, links } = await connection();
    const mail = links.mail;
    assert.ok(mail !== null);
    r.fail.set('label', new FleetError('unavailable', 'provider outage', { retryable: true }));
    const retry = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => kill.latch() };
    await assert.rejects(withProviderRetry(() => mail.label('msg-1', 'Invoices'), retry), isKilled);
    assert.deepEqual(r.calls, ['label'], 'only the attempt before the kill reached the provider');
    await assert.rejects(mail.archive('msg-1'), isKilled);
    await assert.rejects(mail.markRead('msg-1'), isKilled);
    assert.deepEqual(r.calls, ['label']);
  });

  test('a send whose approved draft is found gone while the kill lands makes no new draft', async () => {
    const { r, kill, mailbox } = await connection(new Map([['k', 'd1']]));
    const receipts = mailbox.receipts;
    assert.ok(receipts !== null);
    // The draft is read back (it was deleted in the mailbox meanwhile) as the admin pulls the switch.
    r.before.set('getDraft', () => kill.latch());
    r.fail.set('getDraft', new FleetError('not_found', 'no such draft'));
    const message = { to: ['kim@partner.example'], cc: [], bcc: [], subject: 'Re: Invoice', text: 'Thanks.', html: null, threadId: null, headers: { [IDEMPOTENCY_HEADER]: 'k' } };
    await assert.rejects(receipts.send(message as unknown as Parameters<typeof receipts.send>[0]), isKilled);
    assert.deepEqual(r.calls, ['getDraft'], 'no draft was created, updated or sent after the kill');
  });

  test('calendar writes after the kill are refused; reads still answer, and editing stays a capability', async () => {
    const { r, kill, links } = await connection();
    const calendar = links.calendar;
    assert.ok(calendar !== null && canEditEvents(calendar));
    kill.latch();
    await assert.rejects(calendar.createEvent({ title: 't', start: new Date(), end: new Date(), timeZone: 'UTC', attendees: ['a@b.example'], idempotencyKey: 'e' }), isKilled);
    await assert.rejects(calendar.updateEvent('e1', {}), isKilled);
    await assert.rejects(calendar.cancelEvent('e1'), isKilled);
    assert.equal(await calendar.findEventByIdempotencyKey('e'), null);
    assert.deepEqual(r.calls, ['findEvent']);
  });

  test('CRM writes are refused after the kill, on a CRM rebuilt from a newer secret too', async () => {
    const r = recorder();
    const kill = new KillSwitch(join(dir, `KILLED-${count++}`));
    const crm: CrmConnector = { name: 'bullhorn', provider: fakeCrm(r), secret: 'old', rebuild: () => fakeCrm(r) };
    const calendarOnly = fakeCalendar(r, false);
    const guarded = killGuardedConnectors({ providerKind: 'gmail', provider: fakeMail(r), llm: {} as Connectors['llm'], calendar: calendarOnly, crm }, kill);
    assert.ok(guarded.calendar !== null && !canEditEvents(guarded.calendar), 'a calendar that cannot edit events still reads as one');
    kill.latch();
    const person = { entity: 'Candidate' as const, id: '1' };
    await assert.rejects(guarded.crm?.provider.appendInteractionNote({ person, direction: 'outbound', subject: 's', summary: 's', occurredAt: new Date(), idempotencyKey: 'n' }) ?? Promise.resolve(), isKilled);
    await assert.rejects(guarded.crm?.rebuild('new').updateLastContact(person, new Date()) ?? Promise.resolve(), isKilled);
    assert.equal(await guarded.crm?.provider.findPersonByEmail('a@b.example'), null);
    assert.deepEqual(r.calls, ['findPerson']);
  });
});
