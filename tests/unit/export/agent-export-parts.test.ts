// The complete export holds everything the client's volume keeps about it: besides the audit log, the
// approvals and the outbox, the settings history (who changed what, and why) and the agent's own state
// (the contacts it learnt). Real journals written by the agent's stores, read back by the export reader.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { emptyPolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { EXPORT_PARTS, exportPart } from '../../../agent-image/src/services/data-export/export-parts.ts';
import { VolumeReader } from '../../../agent-image/src/services/data-export/volume-reader.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { SettingsHistory } from '../../../agent-image/src/services/settings/settings-history.ts';
import { clientExportEntries } from '../../../orchestrator/src/services/export/client-export-entries.ts';
import type { AgentDataPart } from '../../../orchestrator/src/services/export/agent-data.ts';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function text(source: AsyncIterable<string>): Promise<string> {
  let all = '';
  for await (const chunk of source) all += chunk;
  return all;
}

describe('what the agent hands out for the complete export', () => {
  test('the settings history and the known contacts are parts of the export, read from the volume', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'agent-export-parts-'));
    directories.push(directory);
    const keys = KeyRing.single(randomBytes(32));
    const parsed = parseClientConfig({ client: 'acme', onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 }, permissions: { 'mail.read': true }, blockList: ['rival.example'] });
    if (!parsed.ok) throw new Error(parsed.issues.join('; '));
    const history = await SettingsHistory.open({ directory: join(directory, 'state'), keys, now: () => NOW });
    await history.append({ at: NOW.toISOString(), author: { kind: 'admin', id: 'dana@acme.example' }, reason: 'competitor', config: parsed.config, changes: [{ path: 'blockList' }], guardRails: [], rollbackOf: null, source: 'api' });
    await history.close();
    const state = await AgentStateStore.open({ directory: join(directory, 'state'), keys, now: () => NOW });
    await state.setPolicy({ ...emptyPolicyState(), knownContacts: new Set(['cfo@partner.example']), knownDomains: new Set(['partner.example']) });
    await state.close();

    const reader = new VolumeReader(directory, keys);
    const settings = (await text(exportPart('settings.jsonl', reader, NOW))).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(settings.length, 1);
    assert.deepEqual([settings[0]?.['version'], settings[0]?.['reason'], (settings[0]?.['author'] as { id: string }).id], [1, 'competitor', 'dana@acme.example']);
    assert.match(await text(exportPart('state.jsonl', reader, NOW)), /cfo@partner\.example/);
  });

  test('every part the agent serves is in the archive, and the archive asks for no part the agent lacks', () => {
    const asked = new Set<string>();
    const entries = clientExportEntries({
      client: { id: 'acme', status: 'active', provider: 'gmail', admins: [], configYaml: 'client: acme\n', subnet: null, onboardingStartedAt: NOW.toISOString(), operationId: null, operationHeartbeatAt: null, statusReason: null, createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() } as never,
      secrets: [],
      opsLog: [],
      agent: async () => ({
        via: 'running-agent',
        part: async function* (name: AgentDataPart) {
          asked.add(name);
          yield* [];
        },
        close: async () => undefined,
      }),
    });
    return (async () => {
      for (const entry of entries) for await (const _chunk of entry.open());
      assert.deepEqual([...asked].sort(), [...EXPORT_PARTS].sort());
    })();
  });
});
