// The client's block list is its own "never mail these": it holds for the daily summary the agent mails
// to the client's admins too. An admin on it gets no summary, and the trail says who was left out and why.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { PolicyEvaluator } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { DailySummary } from '../../../agent-image/src/services/daily-summary/daily-summary.ts';
import { AdminNotifier } from '../../../agent-image/src/services/runtime/admin-notifier.ts';
import { openSendDeskBed, type SendDeskBed } from './send-desk-bed.ts';

function configWith(admins: string[], blockList: string[]): ClientConfig {
  const parsed = parseClientConfig({
    client: 'acme',
    mailbox: 'me@acme.example',
    admins,
    blockList,
    timezone: 'Europe/London',
    permissions: { 'mail.send': true },
  });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

async function skippedRecords(bed: SendDeskBed) {
  return (await bed.audit.read()).filter(
    (record) => record.action_type === 'email_send' && record.result === 'skipped',
  );
}

async function withBed(
  config: ClientConfig,
  body: (bed: SendDeskBed, summary: DailySummary) => Promise<void>,
): Promise<void> {
  const bed = await openSendDeskBed({ config, gate: {} as PolicyEvaluator, prefix: 'summary-block-list-' });
  try {
    const summary = new DailySummary({
      config,
      audit: bed.audit,
      notifier: new AdminNotifier(bed.context),
      logger: createSilentLogger(),
      now: () => bed.clock.now,
    });
    await body(bed, summary);
  } finally {
    await bed.close();
  }
}

void test('an admin whose domain is on the block list gets no summary; the others do, and the skip is audited', async () => {
  await withBed(
    configWith(['boss@acme.example', 'Owner@Private.example'], ['private.example']),
    async (bed, summary) => {
      const result = await summary.send('day');
      assert.equal(result.outcome, 'sent');
      assert.equal(bed.provider.sent.length, 1);
      assert.deepEqual(bed.provider.sent[0]?.message.to, ['boss@acme.example']);
      const skipped = await skippedRecords(bed);
      assert.equal(skipped.length, 1);
      assert.match(skipped[0]?.target ?? '', /owner@private\.example/i);
      assert.equal(skipped[0]?.parameters['skipped'], 'blocked_recipient');
    },
  );
});

void test('when every admin is on the block list the summary goes to nobody, and says why in the audit log', async () => {
  await withBed(configWith(['boss@acme.example'], ['boss@acme.example']), async (bed, summary) => {
    const result = await summary.send('day');
    assert.equal(result.outcome, 'skipped');
    assert.equal(bed.provider.sent.length, 0);
    const skipped = await skippedRecords(bed);
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]?.parameters['skipped'], 'blocked_recipient');
  });
});

void test('a block list that names no admin changes nothing', async () => {
  await withBed(configWith(['boss@acme.example'], ['rival.example']), async (bed, summary) => {
    assert.equal((await summary.send('day')).outcome, 'sent');
    assert.deepEqual(bed.provider.sent[0]?.message.to, ['boss@acme.example']);
    assert.deepEqual(await skippedRecords(bed), []);
  });
});

void test('every kind of admin mail holds to the block list, an alert as much as the summary', async () => {
  await withBed(
    configWith(['boss@acme.example', 'owner@private.example'], ['private.example']),
    async (bed) => {
      const outcome = await new AdminNotifier(bed.context).notify('alert', 'pause:1', 'The agent paused', 'It paused.');
      assert.equal(outcome, 'sent');
      assert.deepEqual(bed.provider.sent[0]?.message.to, ['boss@acme.example']);
      const skipped = await skippedRecords(bed);
      assert.equal(skipped.length, 1);
      assert.match(skipped[0]?.target ?? '', /owner@private\.example/);
      assert.equal(skipped[0]?.parameters['kind'], 'alert');
    },
  );
});
