// What the calendar update/cancel tests need beyond the shared harness: the mailbox's emulator itself (to
// seed an invitation someone else organised and to see what was sent), and a way to hold an update or
// cancel for approval. The running agent proposes only sends (with their event) so far, so the record is
// put into the agent's approval store as a proposal would put it, then decided through the control API.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { gmailScopesFor, graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { createApproval } from '../../../agent-image/src/domain/approval.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import type { OpenedAgent } from '../../../agent-image/src/services/runtime/open-volume.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { withProviderVerdict, type AgentUnderTest, type MailboxUnderTest, type ProviderKind } from './agent-harness.ts';

/** An update or cancel as the calendar emulator recorded it. */
export interface CalendarChange {
  id: string;
  operation: 'update' | 'cancel';
  added: string[];
  /** Whether the attendees were told (and the added invited). */
  notified: boolean;
}

export interface CalendarMailbox extends MailboxUnderTest {
  /** An invitation organised by `organizer` on the owner's calendar; returns its id. */
  addForeignEvent(organizer: string, start: Date, end: Date): string;
  changes(): CalendarChange[];
  /** Ids of the events created through the API, in order. */
  createdIds(): string[];
  /** The event now: null when cancelled or gone. */
  eventNow(id: string): { title: string; start: Date; end: Date; attendees: string[] } | null;
}

const unused = (what: string) => () => {
  throw new Error(`${what} is not part of the calendar edit tests`);
};

/** A mailbox emulator of this kind, with its calendar reachable by the test. */
export async function calendarMailbox(kind: ProviderKind): Promise<CalendarMailbox> {
  const base = {
    seedRaw: unused('seedRaw'),
    draftCount: () => 0,
    labelsOf: unused('labelsOf'),
    flagsOf: unused('flagsOf'),
  };
  if (kind === 'gmail') {
    const emulator = new GmailEmulator();
    await emulator.start();
    return {
      ...base,
      kind,
      mailbox: emulator.mailbox,
      seed: async (seed) => (await emulator.seedInbound({ ...seed, to: [emulator.mailbox], headers: withProviderVerdict('gmail', seed) })).id,
      sent: () => emulator.sent.map((r) => ({ to: [r.parsed.to ?? []].flat().flatMap((t) => t.value.map((a) => a.address ?? '')), subject: r.parsed.subject ?? '', body: '', html: null, idempotencyKey: null, autoSubmitted: null, autoResponseSuppress: null })),
      addBusy: (start, end) => emulator.calendar.addBusy(start, end),
      calendarEvents: () => emulator.calendar.events().map((e) => ({ title: e.summary, start: e.start, end: e.end, timeZone: e.timeZone, attendees: e.attendees })),
      revokeConsent: () => emulator.revokeConsent(),
      throttle: (count, seconds) => emulator.throttle(count, seconds),
      secretValue: (config) =>
        JSON.stringify({ client_id: emulator.clientId, client_secret: emulator.clientSecret, refresh_token: emulator.issueRefreshToken(gmailScopesFor(config.permissions)) }),
      endpoints: { gmailRootUrl: emulator.rootUrl, gmailTokenUrl: emulator.tokenUrl },
      stop: () => emulator.stop(),
      addForeignEvent: (organizer, start, end) => emulator.calendar.addForeignEvent({ organizer, summary: 'Board meeting', start, end }),
      createdIds: () => emulator.calendar.events().map((e) => e.id),
      changes: () =>
        emulator.calendar.changes().map((c) => ({ id: c.id, operation: c.method === 'PATCH' ? 'update' : 'cancel', added: c.added, notified: c.sendUpdates === 'all' && c.byOrganizer })),
      eventNow: (id) => {
        const e = emulator.calendar.event(id);
        return e === undefined || e.status === 'cancelled' ? null : { title: e.summary, start: e.start, end: e.end, attendees: e.attendees };
      },
    };
  }
  const emulator = new GraphEmulator();
  await emulator.start();
  return {
    ...base,
    kind,
    mailbox: emulator.mailbox,
    seed: async (seed) => emulator.seedInbound({ ...seed, to: [emulator.mailbox], headers: withProviderVerdict('outlook', seed) }).id,
    sent: () => emulator.sent.map((r) => ({ to: r.to, subject: r.subject, body: '', html: null, idempotencyKey: null, autoSubmitted: null, autoResponseSuppress: null })),
    addBusy: (start, end) => emulator.calendar.addBusy(start, end),
    calendarEvents: () => emulator.calendar.events().map((e) => ({ title: e.subject, start: e.start, end: e.end, timeZone: e.timeZone, attendees: e.attendees.map((a) => a.address) })),
    revokeConsent: () => emulator.revokeConsent(),
    throttle: (count, seconds) => emulator.throttle(count, seconds),
    secretValue: (config) =>
      JSON.stringify({ client_id: emulator.clientId, client_secret: emulator.clientSecret, refresh_token: emulator.issueRefreshToken(graphScopesFor(config.permissions)) }),
    endpoints: { graphBaseUrl: emulator.baseUrl, graphTokenUrl: emulator.tokenUrl },
    stop: () => emulator.stop(),
    addForeignEvent: (organizer, start, end) => emulator.calendar.addForeignEvent({ organizer, subject: 'Board meeting', start, end, attendees: [emulator.mailbox] }),
    createdIds: () => emulator.calendar.events().map((e) => e.id),
    changes: () => emulator.calendar.changes().map((c) => ({ id: c.id, operation: c.method === 'PATCH' ? 'update' : 'cancel', added: c.added, notified: c.byOrganizer })),
    eventNow: (id) => {
      const e = emulator.calendar.event(id);
      return e === undefined ? null : { title: e.subject, start: e.start, end: e.end, attendees: e.attendees.map((a) => a.address) };
    },
  };
}

/** Holds a calendar write for approval in the agent's store, as a proposal would; returns the approval id. */
export async function holdCalendarWrite(agent: AgentUnderTest, args: Record<string, unknown>): Promise<string> {
  const parsed = parseProposedAction(args);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const created = createApproval({
    id: `ap_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
    actionKind: parsed.action.kind,
    arguments: parsed.action,
    policyReasons: ['new_contact'],
    now: agent.clock.now,
    timeoutHours: 72,
  });
  assert.ok(created.ok);
  const opened = (agent.runtime as unknown as { opened: OpenedAgent | null }).opened;
  assert.ok(opened !== null, 'the agent is introduced');
  await opened.approvals.put({
    record: created.record,
    idempotencyKey: `calendar-edit:${created.record.id}`,
    messageId: null,
    draftId: null,
    preview: { to: [], cc: [], subject: '', bodyPreview: '', emailType: null },
    execution: 'none',
  });
  return created.record.id;
}
