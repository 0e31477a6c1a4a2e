// The agent may be the compromised party: an audit export that does not stop must not fill the
// orchestrator's disk. A bundle holds its beginning, up to a cap, and says it is partial.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { collectEvidence } from '../../../orchestrator/src/services/incidents/evidence-parts.ts';
import { MemoryOpsRegistry } from './memory-incident-bed.ts';

const CAP = 64 * 1024;
const LINE = `${JSON.stringify({ seq: 1, timestamp: '2026-12-02T10:00:00.000Z', action_type: 'email_sent', actor: 'agent', result: 'success' })}\n`;

void test('an audit export past the cap is cut there, kept and marked partial, and the export is stopped', async () => {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'incident-audit-cap-'));
  let produced = 0;
  // As the agent control adapter streams: the response piped into the sink, which it does not end.
  async function* flood(): AsyncGenerator<string> {
    while (produced < 200 * CAP) {
      produced += LINE.length;
      yield LINE;
    }
  }
  try {
    const { entries, parts } = await collectEvidence(
      {
        registry: new MemoryOpsRegistry() as unknown as Registry,
        runtime: { inspectAgent: () => Promise.resolve(null) },
        agents: {
          verifyAudit: () => Promise.resolve({ verification: { valid: true }, checkpoint: null }),
          exportAudit: (_clientId, _query, sink) => pipeline(Readable.from(flood()), sink, { end: false }),
        },
        authorize: () => Promise.resolve(),
        forensics: null,
        metricsSnapshot: () => Promise.resolve('fleet_up 1\n'),
      },
      { clientId: parseClientId('acme'), incidentId: 'INC-1', actor: 'alice', workDir, incidentView: {}, maxAuditExportBytes: CAP },
    );
    const audit = entries.find((entry) => entry.name === 'audit/audit-log.jsonl');
    assert.equal(audit?.size, CAP);
    assert.match(audit?.description ?? '', /^PARTIAL: .*cut after its first 65536 bytes/);
    assert.match(parts.find((part) => part.part === 'audit export')?.note ?? '', /^PARTIAL/);
    assert.ok(produced < 200 * CAP, 'the export was stopped, not read to its end');
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
});
