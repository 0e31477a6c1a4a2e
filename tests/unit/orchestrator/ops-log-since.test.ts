// A limit over a recent window (the approval notices' 24 hours) read every notice the client ever had at
// each start: the ops log's read takes a `since`, and the SQL registry returns only entries at or after it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { opsLogBed } from '../../helpers/ops-log-bed.ts';

const bed = opsLogBed('fleet-ops-log-since-');
const NOW = new Date('2026-03-10T12:00:00.000Z');
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000);

async function append(registry: Registry, clientId: string, action: string, at: Date): Promise<void> {
  await registry.appendOpsLog({ actor: 'system', action, clientId, reason: null, outcome: 'success', details: {}, at: at.toISOString() });
}

void test('the SQL registry lists only entries at or after `since`, with the other filters, in sequence order', async () => {
  await bed.emptyLog();
  const { registry } = await registryOn(bed.executor, bed.homeDir);
  for (const hours of [72, 25, 24, 23, 1]) await append(registry, 'acme', 'approval-notice', hoursAgo(hours));
  await append(registry, 'beta', 'approval-notice', hoursAgo(2));
  await append(registry, 'acme', 'kill', hoursAgo(2));

  const recent = await registry.listOpsLog({ clientId: 'acme', actions: ['approval-notice'], since: hoursAgo(24) });
  assert.deepEqual(
    recent.map((entry) => entry.at),
    [hoursAgo(24), hoursAgo(23), hoursAgo(1)].map((at) => at.toISOString()),
    'the entry exactly at `since` is in, the older ones are out',
  );
  const everyClient = await registry.listOpsLog({ since: hoursAgo(3) });
  assert.deepEqual(
    everyClient.map((entry) => [entry.clientId, entry.action]),
    [['acme', 'approval-notice'], ['beta', 'approval-notice'], ['acme', 'kill']],
  );
  assert.equal((await registry.listOpsLog({ clientId: 'acme' })).length, 6, 'without `since`, the whole history as before');
});
