// AuditChainBroken pages while agent_audit_chain_valid is 0. A restarted agent cannot verify its chain
// before its introduction opens the volume, and an open that fails on a journal that does not decode is
// as broken: neither may export "unknown" (NaN compares false, so the page would resolve).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { AUDIT_VERDICT_FILE, AuditVerdictMemo } from '../../../agent-image/src/observability/audit-verdict-memo.ts';
import { AgentRuntime } from '../../../agent-image/src/services/runtime/agent-runtime.ts';
import { auditFile, client, removeBedDirectories } from '../journal-anchor/agent-bed.ts';

after(removeBedDirectories);

/** A restarted agent process on the volume, not introduced yet (as it is until the orchestrator reaches it). */
function restarted(dataDir: string) {
  const parsed = parseClientConfig({ client: 'acme' });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const registry = new Registry();
  const runtime = new AgentRuntime({
    config: parsed.config,
    dataDir,
    logger: createSilentLogger(),
    metrics: new AgentMetrics(registry, { client: 'acme', version: '1.0.0' }),
    vaultAddr: 'https://127.0.0.1:8200',
    secretSource: () => {
      throw new Error('not introduced in this test');
    },
    connectors: async () => ({ missing: ['gmail'] }),
    syncIntervalMs: 0,
    sweepIntervalMs: 0,
    scheduleSummary: false,
    watchCheckIntervalMs: 0,
  });
  const chainValid = async () => (await registry.getSingleMetric('agent_audit_chain_valid')?.get())?.values[0]?.value;
  return { runtime, chainValid };
}

async function cutLastRecord(dataDir: string): Promise<void> {
  const file = await auditFile(dataDir);
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
  await writeFile(file, `${lines.slice(0, -1).join('\n')}\n`);
}

describe('the audit chain verdict across a restart', () => {
  test('a restarted agent exports the broken verdict before its introduction', async () => {
    const { dataDir, work, start } = await client();
    await work();
    await cutLastRecord(dataDir);
    const refused = await start();
    assert.equal(await refused.chainValid(), 0);
    await refused.runtime.stop();

    const { runtime, chainValid } = restarted(dataDir);
    assert.equal(runtime.lifecycle, 'awaiting_introduction');
    assert.equal(await chainValid(), 0, 'AuditChainBroken keeps firing through the restart');
    await runtime.stop();
  });

  test('a restarted agent whose last verification passed exports 1, and one that never verified NaN', async () => {
    const { dataDir, work } = await client();
    assert.ok(Number.isNaN(await restarted(dataDir).chainValid()), 'no verdict yet: unknown');
    await work();
    assert.equal(await restarted(dataDir).chainValid(), 1);
  });

  test('an open that fails on an audit record that does not decode sets the gauge to 0', async () => {
    const { dataDir, work, start } = await client();
    await work();
    const file = await auditFile(dataDir);
    const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
    await writeFile(file, `${[...lines.slice(0, -1), randomBytes(48).toString('base64url')].join('\n')}\n`);
    const { runtime, chainValid } = await start();
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'audit_chain_broken' });
    assert.equal(await chainValid(), 0);
    await runtime.stop();
  });

  test('a kept verdict other than exactly 0 or 1, or not a plain file, reads as none', async () => {
    const { dataDir } = await client();
    const file = join(dataDir, AUDIT_VERDICT_FILE);
    const errors: unknown[] = [];
    const memo = new AuditVerdictMemo(file, (error) => errors.push(error));
    for (const text of ['', '1\n', ' 0', '2', '1'.repeat(100_000)]) {
      await writeFile(file, text);
      assert.equal(memo.read(), null, JSON.stringify(text.slice(0, 8)));
    }
    memo.write(false);
    assert.equal(memo.read(), false);
    memo.write(true);
    assert.equal(memo.read(), true);
    assert.equal(new AuditVerdictMemo(dataDir, (error) => errors.push(error)).read(), null, 'a directory');
  });
});
