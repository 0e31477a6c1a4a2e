// What `fleet backup` prints: a backup whose agent could not be unpaused says so, and how to mend it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { formatBackupCreated } from '../../../orchestrator/src/cli/format/data-lifecycle.ts';

const stored = { clientId: parseClientId('acme'), backupId: '20261207T101500Z-abcd', createdAt: '2026-12-07T10:15:00.000Z', sizeBytes: 3 * 1024 * 1024 };

void test('a backup whose agent was thawed prints one line', () => {
  const text = formatBackupCreated({ ...stored, frozen: true, stillPaused: false });
  assert.equal(text.split('\n').length, 1);
  assert.match(text, /backup of acme stored/);
  assert.doesNotMatch(text, /WARNING/);
});

void test('a backup whose agent is still paused warns and names the way out', () => {
  const text = formatBackupCreated({ ...stored, frozen: true, stillPaused: true });
  const [first, warning] = text.split('\n');
  assert.match(first ?? '', /backup of acme stored/);
  assert.match(warning ?? '', /^WARNING: the agent could not be unpaused and does no work: `fleet reconcile` unpauses it/);
});
