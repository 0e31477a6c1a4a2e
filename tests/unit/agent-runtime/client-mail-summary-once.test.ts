// A second daily-summary run on the same local date, against the agent's real notifier and outbox: nothing
// goes twice, and the run says so at info level instead of paging someone with "summary failed".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import type { PolicyEvaluator } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { DailySummary } from '../../../agent-image/src/services/daily-summary/daily-summary.ts';
import { AdminNotifier } from '../../../agent-image/src/services/runtime/admin-notifier.ts';
import { openSendDeskBed } from './send-desk-bed.ts';

const config = (() => {
  const parsed = parseClientConfig({ client: 'acme', mailbox: 'me@acme.example', admins: ['boss@acme.example'], timezone: 'Europe/London', permissions: { 'mail.send': true } });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
})();

function recordingLogger(): { logger: Logger; lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const silent = createSilentLogger();
  const note = (level: string) => (message: string) => void lines.push({ level, message });
  const logger: Logger = { ...silent, error: note('error'), warn: note('warn'), info: note('info'), child: () => logger } as Logger;
  return { logger, lines };
}

void test('a second summary run on the same local date sends nothing and is no failure, though the summary changed', async () => {
  const bed = await openSendDeskBed({ config, gate: {} as PolicyEvaluator, prefix: 'client-mail-summary-' });
  try {
    const { logger, lines } = recordingLogger();
    const summary = new DailySummary({ config, audit: bed.audit, notifier: new AdminNotifier(bed.context), logger, now: () => bed.clock.now });
    const first = await summary.send('day');
    assert.equal(first.outcome, 'sent');
    // Later the same local day (the summary time moved later): the period and so the summary differ.
    bed.clock.now = new Date(bed.clock.now.getTime() + 3 * 3_600_000);
    const second = await summary.send('day');
    assert.notEqual(second.text, first.text, 'the second summary differs from the one sent');
    assert.equal(second.outcome, 'already_sent');
    assert.equal(bed.provider.sent.length, 1, 'the summary went once');
    assert.deepEqual(
      lines.filter((line) => line.level === 'error' || line.level === 'warn'),
      [],
      'nothing at error or warning level',
    );
    assert.ok(lines.some((line) => line.level === 'info' && /already sent/.test(line.message)));
  } finally {
    await bed.close();
  }
});

void test('a summary run that really fails still fails', async () => {
  const bed = await openSendDeskBed({ config, gate: {} as PolicyEvaluator, prefix: 'client-mail-summary-' });
  try {
    const notifier = {
      alreadyInOutbox: () => false,
      notify: async () => {
        throw new FleetError('conflict', 'outbox entry was withdrawn at a revive');
      },
    };
    const summary = new DailySummary({ config, audit: bed.audit, notifier, logger: createSilentLogger(), now: () => bed.clock.now });
    await assert.rejects(summary.send('day'), (error: unknown) => isFleetError(error) && error.code === 'conflict');
  } finally {
    await bed.close();
  }
});
