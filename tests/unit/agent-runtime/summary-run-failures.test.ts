// A scheduled summary that cannot be made (audit log unreadable, rendering fails, the send refused) is
// nobody's exception: the run says so once at error level, with the stage, and counts it for the alert.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import {
  DailySummary,
  type DailySummaryOptions,
  type SummaryStage,
} from '../../../agent-image/src/services/daily-summary/daily-summary.ts';

const config = {
  client: 'acme',
  timezone: 'Europe/London',
  approvalTimeoutHours: 24,
  admins: ['boss@acme.example'],
  blockList: [],
  autoReply: { freeTextAutoSend: [] },
  dailySummary: { enabled: true, at: '08:00' },
} as unknown as ClientConfig;

const emptyAudit = { async *records() {}, append: async () => ({}) as AuditRecord } as unknown as AuditLog;
const brokenAudit = {
  async *records() {
    throw new FleetError('integrity', 'audit line 3 does not authenticate');
  },
} as unknown as AuditLog;

function recording() {
  const errors: { message: string; meta: Record<string, unknown> }[] = [];
  const silent = createSilentLogger();
  const logger: Logger = {
    ...silent,
    error: (message: string, meta: Record<string, unknown> = {}) => void errors.push({ message, meta }),
    child: () => logger,
  } as Logger;
  const counted: SummaryStage[] = [];
  return {
    logger,
    errors,
    metrics: { dailySummaryFailed: (stage: SummaryStage) => void counted.push(stage) },
    counted,
  };
}

function summaryWith(
  overrides: Partial<DailySummaryOptions>,
  sink: ReturnType<typeof recording>,
): DailySummary {
  return new DailySummary({
    config,
    audit: emptyAudit,
    notifier: { alreadyInOutbox: () => false, notify: async () => 'sent' },
    logger: sink.logger,
    metrics: sink.metrics,
    now: () => new Date('2026-06-01T07:00:00Z'),
    ...overrides,
  });
}

describe('a scheduled summary run that fails is logged once and counted by stage', () => {
  test('an unreadable audit log fails the run at read', async () => {
    const sink = recording();
    assert.equal(await summaryWith({ audit: brokenAudit }, sink).run('day'), null);
    assert.deepEqual(sink.counted, ['read']);
    assert.equal(sink.errors.length, 1);
    assert.equal(sink.errors[0]?.meta['stage'], 'read');
    assert.equal(sink.errors[0]?.meta['code'], 'integrity');
  });

  test('a rendering that throws fails the run at render', async () => {
    const sink = recording();
    const pauseState = () => {
      throw new Error('state store closed');
    };
    assert.equal(await summaryWith({ pauseState }, sink).run('week'), null);
    assert.deepEqual(sink.counted, ['render']);
    assert.deepEqual(
      sink.errors.map((entry) => [entry.meta['stage'], entry.meta['period']]),
      [['render', 'week']],
    );
  });

  test('a send the outbox refuses fails the run at send', async () => {
    const sink = recording();
    const notifier = {
      alreadyInOutbox: () => false,
      notify: async () => {
        throw new FleetError('unavailable', 'outbox: recover(provider) must run before any new send');
      },
    };
    assert.equal(await summaryWith({ notifier }, sink).run('day'), null);
    assert.deepEqual(sink.counted, ['send']);
    assert.equal(sink.errors[0]?.meta['code'], 'unavailable');
  });

  test('a run that sends counts nothing and logs no error', async () => {
    const sink = recording();
    const result = await summaryWith({}, sink).run('day');
    assert.equal(result?.outcome, 'sent');
    assert.deepEqual(sink.counted, []);
    assert.deepEqual(sink.errors, []);
  });
});
