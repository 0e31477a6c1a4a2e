// The agent's side of the complete export, in-process on a real volume written by a real agent run: a
// session opened by its own introduction reads every part without writing, and refuses what it must.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { VaultSecretSource } from '../../../agent-image/src/adapters/vault/vault-secret-source.ts';
import { exportPart, type ExportPart } from '../../../agent-image/src/services/data-export/export-parts.ts';
import { DataExportSessions } from '../../../agent-image/src/services/data-export/export-session.ts';
import { agentBed } from '../../helpers/agent-bed.ts';
import { KNOWN, clientConfig, seedInbox, uniqueClient, type AgentUnderTest } from '../agent/agent-harness.ts';

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let all = '';
  for await (const chunk of chunks) all += chunk;
  return all;
}

const lines = (all: string) => all.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);

/** Every file's size and mtime under a directory: proof that reading changed nothing. */
async function fingerprint(dir: string): Promise<string[]> {
  const result: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const info = await stat(path);
    result.push(`${path} ${info.size} ${info.mtimeMs}`);
  }
  return result.sort();
}

describe('the data export session on an agent volume', () => {
  const bed = agentBed({ mailbox: 'gmail' });
  let agent: AgentUnderTest;
  let sessions: DataExportSessions;

  before(async () => {
    agent = await bed.startAgent({ config: clientConfig(uniqueClient(), bed.mailbox.mailbox, 'gmail') });
    assert.equal(await agent.introduce(), 204);
    await agent.runtime.tick();
    await seedInbox((seed) => bed.mailbox.seed(seed));
    await agent.runtime.tick();
    const logger = createSilentLogger();
    sessions = new DataExportSessions({
      clientId: agent.id,
      dataDir: agent.dataDir,
      tmpDir: tmpdir(),
      vaultAddr: bed.vault.vault.url,
      secretSource: (input) => new VaultSecretSource({ clientId: agent.id, ...input, logger, caPem: bed.vault.vault.caCertificatePem }),
      logger,
    });
    bed.onTeardown(() => sessions.close());
  });

  const read = async (part: ExportPart) => {
    const lease = sessions.lease();
    try {
      return await text(exportPart(part, lease.reader, new Date()));
    } finally {
      lease.release();
    }
  };

  test('a session from a genuine introduction reads every part, and reading writes nothing', async () => {
    const introduction = await bed.vault.store.issueAgentIntroduction(agent.id);
    await sessions.open({ wrappingToken: introduction.wrappingToken, creationPath: introduction.creationPath });
    await sessions.authenticate(agent.controlToken);
    const before = await fingerprint(agent.dataDir);

    const audit = lines(await read('audit.jsonl'));
    const own = await agent.auditRecords();
    assert.equal(audit.length, own.length);
    assert.deepEqual(audit.map((record) => record['hash']), own.map((record) => record.hash), 'the same chain, in order');

    const approvals = lines(await read('approvals.jsonl'));
    assert.equal(approvals.length, 4, 'the four held replies');
    assert.ok(approvals.every((approval) => approval['status'] === 'pending' && approval['proposedArguments'] !== undefined));
    assert.ok(approvals.some((approval) => JSON.stringify(approval['proposedArguments']).includes('Tuesday') || JSON.stringify(approval['preview']).includes('Meeting')));

    const outbox = lines(await read('outbox.jsonl'));
    assert.equal(outbox.filter((entry) => entry['status'] === 'sent').length, 1);
    assert.deepEqual((outbox[0]?.['message'] as { to: string[] }).to, [KNOWN]);

    const summaries = lines(await read('summaries.jsonl'));
    const report = summaries.find((line) => line['kind'] === 'daily-report')?.['report'] as { read: number; sent: number };
    assert.equal(report.read, 6);
    assert.equal(report.sent, 1);
    // This in-process agent got its config in memory, so its volume holds none (a container's does).
    assert.equal(await read('config.yaml'), '');

    assert.deepEqual(await fingerprint(agent.dataDir), before, 'no file of the volume changed');
  });

  test('a wrong control token, a foreign introduction and a closed session are refused', async () => {
    const introduction = await bed.vault.store.issueAgentIntroduction(agent.id);
    await sessions.open({ wrappingToken: introduction.wrappingToken, creationPath: introduction.creationPath });
    await assert.rejects(sessions.authenticate('not-the-token'), (error) => isFleetError(error) && error.code === 'unauthorized');
    await assert.rejects(
      sessions.open({ wrappingToken: introduction.wrappingToken, creationPath: 'auth/token/create/fleet-someone-else' }),
      (error) => isFleetError(error) && error.code === 'forbidden',
    );
    // The first introduction was redeemed: replaying it opens nothing.
    await assert.rejects(sessions.open({ wrappingToken: introduction.wrappingToken, creationPath: introduction.creationPath }));
    await sessions.close();
    await assert.rejects(sessions.authenticate(agent.controlToken), (error) => isFleetError(error) && error.code === 'unavailable');
    assert.throws(() => sessions.lease(), (error) => isFleetError(error) && error.code === 'unavailable');
  });
});
