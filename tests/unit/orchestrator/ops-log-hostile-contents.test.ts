// What the ops log does with hostile contents: rows a database writer altered, free text that would forge
// lines in `fleet ops-log show`, and an agent's settings reply that would decide how many entries are appended.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { diffSettings } from '@agent-fleet/kernel/settings-diff';
import { openPgliteExecutor } from '../../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import type { SqlRegistry } from '../../../orchestrator/src/adapters/sql/sql-registry.ts';
import { formatOpsLog } from '../../../orchestrator/src/cli/format/ops-log.ts';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { settingsChangeEntries, type VersionSummary } from '../../../orchestrator/src/services/settings/settings-ops-log.ts';

const acme = parseClientId('acme');
const kill = { actor: 'ops', action: 'kill', clientId: acme, reason: null, outcome: 'success', details: {} };

let homeDir: string;
let executor: SqlExecutor;
let registry: SqlRegistry;
before(async () => {
  homeDir = await mkdtemp(path.join(os.tmpdir(), 'ops-log-hostile-'));
  executor = await openPgliteExecutor(path.join(homeDir, 'registry'));
  registry = (await registryOn(executor, homeDir)).registry;
  for (let index = 0; index < 3; index++) await registry.appendOpsLog(kill);
});
after(async () => {
  await executor.close();
  await rm(homeDir, { recursive: true, force: true });
});

void test('an entry whose time no date can hold (infinity) fails verification at its seq instead of the whole log failing to load', async () => {
  const [stored] = await executor.query<{ at: unknown }>('SELECT at FROM ops_log WHERE seq = 2');
  try {
    await executor.query("UPDATE ops_log SET at = 'infinity' WHERE seq = 2");
    const entries = await registry.listOpsLog();
    assert.equal(entries.length, 3);
    assert.deepEqual(verifyOpsLog(entries, await registry.opsLogHeadCheckpoint()), { valid: false, entries: 3, firstBadSeq: 2, problem: 'edited' });
  } finally {
    await executor.query('UPDATE ops_log SET at = $1 WHERE seq = 2', [stored!.at]);
  }
});

void test("sealed fields moved from another entry are an integrity error naming the entry's seq", async () => {
  const [stored] = await executor.query<{ sealed_fields: string }>('SELECT sealed_fields FROM ops_log WHERE seq = 2');
  try {
    await executor.query('UPDATE ops_log SET sealed_fields = (SELECT sealed_fields FROM ops_log WHERE seq = 1) WHERE seq = 2');
    await assert.rejects(registry.listOpsLog(), (error: unknown) => isFleetError(error) && error.code === 'integrity' && /ops-log entry at seq 2: its sealed actor, reason and details do not open/.test(error.message));
  } finally {
    await executor.query('UPDATE ops_log SET sealed_fields = $1 WHERE seq = 2', [stored!.sealed_fields]);
  }
  assert.equal(verifyOpsLog(await registry.listOpsLog()).valid, true);
});

void test('fleet ops-log show prints one line per entry: line breaks in a reason or an actor cannot forge entries', () => {
  const forged = '\n99 2026-11-23T10:00:00.000Z ops resume acme success';
  const entries = [
    { seq: 1, at: '2026-11-23T10:00:00.000Z', actor: 'ops', action: 'kill', clientId: 'acme', reason: `spam${forged}`, outcome: 'success', details: {}, prevHash: '', hash: '' },
    { seq: 2, at: '2026-11-23T10:00:01.000Z', actor: `ops\u2028x\r`, action: 'kill', clientId: null, reason: null, outcome: 'success', details: {}, prevHash: '', hash: '' },
  ];
  const lines = formatOpsLog(entries).split(/[\n\r\u2028\u2029]/);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^1 .* \(spam\\u000a99 2026/);
  assert.match(lines[1]!, /^2 2026-11-23T10:00:01\.000Z ops\\u2028x\\u000d kill - success$/);
});

function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 }, ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

void test("an agent's settings reply does not decide how many ops-log entries are appended, nor hide a guard rail it crossed", () => {
  const previous = config();
  const next = config({ rateLimits: { perHour: 40, perDay: 100 } });
  const at = '2026-03-10T12:00:00.000Z';
  const made = (guardRails: unknown): VersionSummary => ({
    version: 5, at, author: { kind: 'admin', id: 'dana@acme.example' }, reason: 'busy week', changes: diffSettings(previous, next),
    guardRails: guardRails as string[], rollbackOf: null, source: 'api', configHash: 'c'.repeat(64), prevHash: 'p'.repeat(64), hash: 'h'.repeat(64),
  });
  const flood = [...Array.from({ length: 10_000 }, (_, index) => `made-up.${index}`), 'x'.repeat(100_000), 42];
  const entries = settingsChangeEntries({ actor: 'client-admin:dana@acme.example', clientId: 'acme', version: made(flood), previous, next, via: 'portal' });
  const flags = entries.filter((entry) => entry.action === 'settings-guard-rail');
  assert.ok(flags.length <= 50, `${flags.length} guard-rail entries`);
  assert.ok(flags.every((entry) => JSON.stringify(entry).length < 1_000));
  // The rail the orchestrator finds crossed is flagged although the agent's list crowds it out...
  assert.ok(flags.some((entry) => entry.details['rail'] === 'rateLimits.perHour'));
  assert.ok(Number(entries[0]!.details['guardRailsLeftOut']) > 9_000);

  // ... and although the agent leaves it out.
  const hidden = settingsChangeEntries({ actor: 'client-admin:dana@acme.example', clientId: 'acme', version: made([]), previous, next, via: 'portal' });
  const flag = hidden.find((entry) => entry.action === 'settings-guard-rail');
  assert.deepEqual([flag?.details['rail'], flag?.outcome], ['rateLimits.perHour', 'not-reported-by-agent']);
  assert.deepEqual(hidden[0]!.details['guardRails'], ['rateLimits.perHour']);
});
