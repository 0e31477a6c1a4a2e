// Backup and restore on a real agent container: the volume is destroyed, restored from an encrypted backup
// into a fresh container with a new introduction; the chain verifies, the records the backup predates are
// counted exactly against the orchestrator's checkpoint, and the mail sent before the backup is not re-sent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker } from '../../helpers/fleet-fixture.ts';
import { waitFor } from '../../helpers/monitoring.ts';
import { lifecycleClient, type LifecycleClient } from './lifecycle-bed.ts';

describe('backup and restore of a client on a real agent container', () => {
  let bed: LifecycleClient;
  before(async () => {
    bed = await lifecycleClient({ octet: 232, stem: 'br' });
  });
  after(() => bed?.cleanup());

  it('the volume destroyed, a restore brings the agent back without re-sending', { timeout: 600_000 }, async () => {
    const { orchestrator } = bed.fleet;
    const clientId = bed.clientId;
    await bed.processInboxAndSendOne();
    const sentBefore = bed.sentSubjects();
    assert.equal(sentBefore.length, 1);
    assert.equal(await orchestrator.agents.checkpoint(clientId), 'saved');
    const atBackup = await orchestrator.registry.getAuditCheckpoint(clientId);
    assert.ok(atBackup);

    const run = await bed.cli(['--json', 'backup', clientId]);
    assert.equal(run.code, 0, run.stderr);
    const backup = JSON.parse(run.stdout) as { backupId: string; frozen: boolean; sizeBytes: number };
    assert.equal(backup.frozen, true, 'the running agent was paused while its volume was read');
    assert.equal((await docker.getContainer(`fleet-${clientId}`).inspect()).State.Paused, false, 'and resumed');
    assert.equal(await orchestrator.agents.checkpoint(clientId), 'unchanged', 'nothing was written while the snapshot was taken');
    const listed = await bed.cli(['backup', 'list', clientId]);
    assert.match(listed.stdout, new RegExp(backup.backupId));

    // After the backup the agent keeps working: a new contact's mail is read and held for approval.
    await bed.seed({ from: 'late@newco.example', subject: 'After the backup', text: 'Hello, are you hiring?' });
    await bed.auditUntil('the later mail to be held', (records) => records.some((record) => record.action_type === 'approval_requested' && JSON.stringify(record.parameters).includes('After the backup')));
    assert.equal(await orchestrator.agents.checkpoint(clientId), 'saved');
    const checkpoint = await orchestrator.registry.getAuditCheckpoint(clientId);
    assert.ok(checkpoint && checkpoint.seq > atBackup.seq);

    // Disaster: the container and the volume are gone.
    await docker.getContainer(`fleet-${clientId}`).remove({ force: true });
    await docker.getVolume(`fleet-${clientId}-data`).remove({ force: true });

    const restored = await orchestrator.dataLifecycle.restore.restore({ clientId, backupId: backup.backupId, actor: 'test', agentEnvironment: bed.agentEnvironment });
    assert.equal(restored.started, true);
    assert.ok(restored.chain?.ok, restored.chain?.message);
    assert.deepEqual(restored.chain.restoredHead, { seq: atBackup.seq });
    assert.equal(restored.chain.missingRecords, checkpoint.seq - atBackup.seq, 'exactly the records written after the backup');
    assert.match(restored.chain.message, new RegExp(`${checkpoint.seq - atBackup.seq} audit records \\(${atBackup.seq + 1}\\.\\.${checkpoint.seq}\\) are missing`));
    assert.equal((await orchestrator.registry.getClient(clientId))?.status, 'active');

    // The agent runs on the restored data: it reads its mailbox again, and the reply sent before the backup
    // (its idempotency key in the restored outbox) is not sent a second time.
    const isLater = (record: { action_type: string; parameters: unknown }) => record.action_type === 'approval_requested' && JSON.stringify(record.parameters).includes('After the backup');
    const restoredAudit = await bed.auditUntil('the restored agent to read the later mail again', (records) => records.some((record) => record.seq > atBackup.seq && isLater(record)));
    assert.equal(restoredAudit.filter((record) => record.seq <= atBackup.seq && isLater(record)).length, 0, 'the restored log ends where the backup was taken');
    await new Promise((resolve) => setTimeout(resolve, 12_000)); // two more sync rounds
    assert.deepEqual(bed.sentSubjects(), sentBefore, 'nothing was sent again');
    // Checked against the checkpoint taken after the backup, the log shows the loss (never an edit).
    const { verification } = (await orchestrator.agents.verifyAudit(clientId)) as { verification: { ok: boolean; break?: { kind: string } } };
    assert.equal(verification.ok, false);
    assert.ok(['truncated', 'rewritten'].includes(verification.break?.kind ?? ''), JSON.stringify(verification));
    const entry = (await orchestrator.registry.listOpsLog({ clientId })).findLast((candidate) => candidate.action === 'restore');
    assert.equal(entry?.outcome, 'partial');

    // The checkpoint does not follow the restored chain by itself; an operator accepts it, with a reason,
    // and the ops log keeps the checkpoint it replaced. Then checkpoints move on again.
    assert.equal(await orchestrator.agents.checkpoint(clientId), 'regressed');
    const reason = `restored from ${backup.backupId}: records after it are lost`;
    const reanchored = await orchestrator.agents.reanchorAudit(clientId, reason, 'test');
    assert.deepEqual([reanchored.previous?.seq, reanchored.previous?.hash], [checkpoint.seq, checkpoint.hash]);
    assert.equal(((await orchestrator.agents.verifyAudit(clientId)).verification as { ok: boolean }).ok, true);
    assert.notEqual(await orchestrator.agents.checkpoint(clientId), 'regressed');
    const accepted = (await orchestrator.registry.listOpsLog({ clientId })).findLast((candidate) => candidate.action === 'audit-reanchor');
    assert.equal(accepted?.reason, reason);
    assert.equal((accepted?.details['previous'] as { seq: number } | undefined)?.seq, checkpoint.seq);
    await waitFor('the restored agent to answer', 10_000, async () => ((await orchestrator.runtime.inspectAgent(clientId))?.running ? true : undefined));
  });
});
