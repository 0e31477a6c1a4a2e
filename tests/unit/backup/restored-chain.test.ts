import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { checkRestoredChain, type RestoredChainDependencies } from '../../../orchestrator/src/services/backup/restored-chain.ts';

const clientId = parseClientId('acme');
const restoredAt = new Date('2026-12-05T10:00:00.000Z');

/**
 * A restored agent whose backup ends at `backupHead` and which keeps appending while it is checked: the
 * verification sees `verifiedExtra` records after the backup, the export that follows sees `exportedExtra`.
 */
function restoredAgent(options: { backupHead: number; verifiedExtra: number; exportedExtra: number; checkpointSeq: number | null; forked?: boolean }): RestoredChainDependencies {
  const { backupHead, verifiedExtra, exportedExtra, checkpointSeq, forked = false } = options;
  const record = (seq: number) => `${JSON.stringify({ seq, action_type: 'email_read', parameters: { subject: 'Grüße' } })}\n`;
  return {
    registry: { getAuditCheckpoint: async () => (checkpointSeq === null ? null : { seq: checkpointSeq, hash: 'h'.repeat(64), at: restoredAt.toISOString() }) },
    secrets: { readControlToken: async () => 'token' },
    control: {
      request: async <T>(_client: unknown, _address: string, _token: string, _method: string, path: string): Promise<T> => {
        const [route, query] = path.split('?');
        assert.equal(route, '/v1/audit/verify');
        if (query !== undefined) {
          // Verified against the checkpoint: a chain of another history has another record at its seq.
          const params = new URLSearchParams(query);
          assert.equal(params.get('seq'), String(checkpointSeq));
          assert.equal(params.get('hash'), 'h'.repeat(64));
          if (forked) return { ok: false, count: backupHead + verifiedExtra, break: { kind: 'rewritten', seq: checkpointSeq, message: `record ${checkpointSeq} differs from the checkpoint` } } as T;
        }
        return { ok: true, count: backupHead + verifiedExtra, head: { seq: backupHead + verifiedExtra, hash: 'x' } } as T;
      },
      stream: async (_client, _address, _token, path, sink) => {
        assert.match(path, new RegExp(`since=${encodeURIComponent(restoredAt.toISOString())}`));
        const body = Buffer.from(Array.from({ length: exportedExtra }, (_, index) => record(backupHead + index + 1)).join(''), 'utf8');
        // Split inside a multi-byte character, as a network read may.
        const cut = Math.max(1, body.indexOf('ü') + 1);
        if (body.length > 0) sink.write(body.subarray(0, cut));
        if (body.length > cut) sink.write(body.subarray(cut));
      },
    },
  };
}

void describe('the chain of a restored agent', () => {
  test("the restored head is the backup's own even while the agent appends during the check", async () => {
    const chain = await checkRestoredChain(restoredAgent({ backupHead: 38, verifiedExtra: 2, exportedExtra: 5, checkpointSeq: 41 }), clientId, 'agent:8443', restoredAt);
    assert.equal(chain.ok, true);
    assert.deepEqual(chain.restoredHead, { seq: 38 });
    assert.equal(chain.missingRecords, 3);
    assert.match(chain.message, /3 audit records \(39\.\.41\) are missing/);
  });

  test('an agent that has appended nothing since the restore has its verified head as the restored head', async () => {
    const chain = await checkRestoredChain(restoredAgent({ backupHead: 40, verifiedExtra: 0, exportedExtra: 0, checkpointSeq: 40 }), clientId, 'agent:8443', restoredAt);
    assert.deepEqual(chain.restoredHead, { seq: 40 });
    assert.equal(chain.missingRecords, 0);
    assert.match(chain.message, /reaches the checkpoint \(record 40\)/);
  });

  test('records appended only after the verification still leave the head where the backup ended', async () => {
    const chain = await checkRestoredChain(restoredAgent({ backupHead: 40, verifiedExtra: 0, exportedExtra: 2, checkpointSeq: 40 }), clientId, 'agent:8443', restoredAt);
    assert.deepEqual(chain.restoredHead, { seq: 40 });
    assert.equal(chain.missingRecords, 0);
  });

  test('a backup of another history, as long as the checkpointed one, is not reported as reaching the checkpoint', async () => {
    const chain = await checkRestoredChain(restoredAgent({ backupHead: 45, verifiedExtra: 1, exportedExtra: 1, checkpointSeq: 40, forked: true }), clientId, 'agent:8443', restoredAt);
    assert.equal(chain.ok, false);
    assert.deepEqual(chain.restoredHead, { seq: 45 });
    assert.match(chain.message, /does not hold the checkpoint's record 40/);
  });

  test('a backup that holds the checkpointed record and goes past it reaches the checkpoint', async () => {
    const chain = await checkRestoredChain(restoredAgent({ backupHead: 45, verifiedExtra: 1, exportedExtra: 1, checkpointSeq: 40 }), clientId, 'agent:8443', restoredAt);
    assert.equal(chain.ok, true);
    assert.equal(chain.missingRecords, 0);
    assert.match(chain.message, /reaches the checkpoint \(record 40\)/);
  });

  test('an empty backup restored has no head of its own', async () => {
    const chain = await checkRestoredChain(restoredAgent({ backupHead: 0, verifiedExtra: 1, exportedExtra: 1, checkpointSeq: null }), clientId, 'agent:8443', restoredAt);
    assert.equal(chain.restoredHead, null);
    assert.match(chain.message, /no checkpoint was kept/);
  });
});
