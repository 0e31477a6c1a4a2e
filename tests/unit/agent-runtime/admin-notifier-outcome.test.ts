// What `notify` answers is what the caller logs and the orchestrator records: "the admins were told". A mail
// the outbox holds for a human (the provider refused it) has told nobody, so it must not read as queued.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import type { PolicyEvaluator } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { DailySummary, type SummaryStage } from '../../../agent-image/src/services/daily-summary/daily-summary.ts';
import { AdminNotifier } from '../../../agent-image/src/services/runtime/admin-notifier.ts';
import { sendAdminNotice } from '../../../agent-image/src/services/runtime/admin-notices.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { openSendDeskBed, type SendDeskBed } from './send-desk-bed.ts';

const PORTAL = 'https://portal.acme.example';

function config(): ClientConfig {
  const parsed = parseClientConfig({
    client: 'acme',
    mailbox: 'me@acme.example',
    admins: ['boss@acme.example'],
    timezone: 'Europe/London',
    permissions: { 'mail.send': true },
  });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

async function withBed(body: (bed: SendDeskBed) => Promise<void>): Promise<void> {
  const bed = await openSendDeskBed({ config: config(), gate: {} as PolicyEvaluator, prefix: 'admin-notifier-outcome-' });
  try {
    await body(bed);
  } finally {
    await bed.close();
  }
}

const malformed = () => Object.assign(new Error('Invalid To header'), { status: 400 });

void test('a notice the provider refuses as malformed is held, not queued, and stays held when asked again', async () => {
  await withBed(async (bed) => {
    bed.provider.failNextSend(malformed());
    const notifier = new AdminNotifier(bed.context);
    assert.equal(await notifier.notify('alert', 'pause:1', 'The agent paused', 'It paused.'), 'held');
    assert.equal(bed.provider.sent.length, 0);
    assert.equal(await notifier.notify('alert', 'pause:1', 'The agent paused', 'It paused.'), 'held', 'a held entry is not retried, and not queued');
    assert.equal(bed.provider.sent.length, 0);
  });
});

void test('an error nobody can explain puts the notice in review: held', async () => {
  await withBed(async (bed) => {
    bed.provider.failNextSend(new Error('something nobody expected'));
    assert.equal(await new AdminNotifier(bed.context).notify('alert', 'pause:2', 'The agent paused', 'It paused.'), 'held');
  });
});

void test('without a provider the outcome is the entry’s own state: queued when new, sent or held when it was', async () => {
  await withBed(async (bed) => {
    const live = new AdminNotifier(bed.context);
    assert.equal(await live.notify('alert', 'a', 'Alert a', 'a'), 'sent');
    bed.provider.failNextSend(malformed());
    assert.equal(await live.notify('alert', 'b', 'Alert b', 'b'), 'held');
    const offline = new AdminNotifier({ ...bed.context, receipts: () => null } as RuntimeContext);
    assert.equal(await offline.notify('alert', 'a', 'Alert a', 'a'), 'sent');
    assert.equal(await offline.notify('alert', 'b', 'Alert b', 'b'), 'held');
    assert.equal(await offline.notify('alert', 'c', 'Alert c', 'c'), 'queued');
  });
});

void test('an enrolment link the outbox held is reported held to the orchestrator', async () => {
  await withBed(async (bed) => {
    bed.provider.failNextSend(malformed());
    const outcome = await sendAdminNotice(
      { config: bed.context.config, notifier: new AdminNotifier(bed.context), approval: () => undefined, portalUrl: PORTAL },
      { kind: 'enrolment', email: 'boss@acme.example', url: `${PORTAL}/enrol/abc`, expiresAt: '2026-06-02T08:00:00Z' },
    );
    assert.equal(outcome, 'held');
  });
});

void test('a scheduled summary the outbox held counts as failed at send, and says so once at error', async () => {
  await withBed(async (bed) => {
    bed.provider.failNextSend(malformed());
    const failures: SummaryStage[] = [];
    const errors: string[] = [];
    const logger: Logger = { ...createSilentLogger(), error: (message: string) => void errors.push(message) } as Logger;
    const summary = new DailySummary({
      config: bed.context.config,
      audit: bed.audit,
      notifier: new AdminNotifier(bed.context),
      logger,
      now: () => bed.clock.now,
      metrics: { dailySummaryFailed: (stage) => void failures.push(stage) },
    });
    const result = await summary.run('day');
    assert.equal(result?.outcome, 'held');
    assert.deepEqual(failures, ['send']);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /held/);
  });
});
