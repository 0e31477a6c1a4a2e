// The calendar read in isolation: a small in-test CalendarProvider, everything else real (gate, audit log, metrics, kill switch).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { compilePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { emptyPolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { BusyInterval, CalendarEvent, CalendarProvider, NewEvent } from '../../../agent-image/src/ports/calendar-provider.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { calendarNotes } from '../../../agent-image/src/services/mail-loop/calendar-notes.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';

class InTestCalendar implements CalendarProvider {
  readonly asked: { from: Date; to: Date }[] = [];
  failWith: Error | null = null;
  private readonly busy: BusyInterval[];
  constructor(busy: BusyInterval[]) {
    this.busy = busy;
  }
  async freeBusy(from: Date, to: Date): Promise<BusyInterval[]> {
    this.asked.push({ from, to });
    if (this.failWith !== null) throw this.failWith;
    return this.busy.filter((interval) => interval.end > from && interval.start < to);
  }
  async createEvent(_event: NewEvent): Promise<CalendarEvent> {
    throw new Error('the scheduling read path never writes');
  }
  async findEventByIdempotencyKey(): Promise<CalendarEvent | null> {
    return null;
  }
}

const NOW = new Date('2026-11-20T18:00:00Z'); // a Friday evening in London
const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', timezone: 'Europe/London', workingHours: { start: '09:00', end: '17:00' }, ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

/** The parts of the runtime context the calendar read uses, all real: gate, audit log, metrics, kill switch. */
async function contextFor(clientConfig: ClientConfig): Promise<{ context: RuntimeContext; audit: AuditLog; kill: KillSwitch }> {
  const directory = await mkdtemp(join(tmpdir(), 'calendar-notes-'));
  directories.push(directory);
  const audit = await AuditLog.open({ directory: join(directory, 'audit'), keys: KeyRing.single(randomBytes(32)), now: () => NOW });
  const kill = new KillSwitch(join(directory, 'killed.json'));
  const partial = {
    config: clientConfig,
    gate: compilePolicy(clientConfig),
    audit,
    kill,
    metrics: new AgentMetrics(new Registry(), { client: 'acme', version: '1.0.0' }),
    logger: createSilentLogger(),
    now: () => NOW,
    policyState: () => ({ ...emptyPolicyState(), killed: kill.killed }),
  };
  return { context: partial as unknown as RuntimeContext, audit, kill };
}

const retry = { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3, sleep: async () => undefined };

describe('calendar notes for scheduling replies', () => {
  test('the next working days are read and their busy times become the notes, audited', async () => {
    const calendar = new InTestCalendar([{ start: new Date('2026-11-23T10:00:00Z'), end: new Date('2026-11-23T11:30:00Z') }]);
    const { context, audit } = await contextFor(config());
    const notes = await calendarNotes({ context, calendar, retry }, 'm-1');
    assert.equal(calendar.asked.length, 1);
    assert.equal(calendar.asked[0]?.from.toISOString(), '2026-11-23T09:00:00.000Z', 'from Monday 09:00 London');
    assert.match(notes, /Mon, 23 Nov 2026: busy 10:00-11:30/);
    assert.match(notes, /Tue, 24 Nov 2026: free 09:00-17:00/);
    const records = await audit.read();
    assert.equal(records.length, 1);
    assert.equal(records[0]?.action_type, 'calendar_read');
    assert.equal(records[0]?.result, 'success');
    assert.equal(records[0]?.parameters['busy_intervals'], 1);
    assert.equal(records[0]?.parameters['message_id'], 'm-1');
  });

  test('without calendar.read the calendar is not asked and the notes are empty', async () => {
    const calendar = new InTestCalendar([]);
    const { context, audit } = await contextFor(config({ permissions: { 'mail.read': true, 'mail.draft': true } }));
    assert.equal(await calendarNotes({ context, calendar, retry }, 'm-2'), '');
    assert.equal(calendar.asked.length, 0);
    assert.equal((await audit.read()).length, 0);
  });

  test('a failing calendar degrades to no notes, with the failure audited', async () => {
    const calendar = new InTestCalendar([]);
    calendar.failWith = new FleetError('unavailable', 'calendar down', { retryable: false });
    const { context, audit } = await contextFor(config());
    assert.equal(await calendarNotes({ context, calendar, retry }, 'm-3'), '');
    const records = await audit.read();
    assert.equal(records[0]?.action_type, 'calendar_read');
    assert.equal(records[0]?.result, 'failure');
  });

  test('once killed, the calendar is not read', async () => {
    const calendar = new InTestCalendar([]);
    const { context, kill } = await contextFor(config());
    kill.latch();
    assert.equal(await calendarNotes({ context, calendar, retry }, 'm-4'), '');
    assert.equal(calendar.asked.length, 0);
  });
});
