// A restore from a backup older than the journal heads the agent recorded in Vault: the restore resets that
// record after the agent stopped (and recorded its last heads) and before the backup is swapped in, so the
// restored agent opens its volume instead of refusing it as rolled back. A reset that cannot be written
// leaves the volume as it was. `fleet secrets set` cannot write the record.
import { JOURNAL_ANCHOR_SECRET, parseAnchorDocument } from '@agent-fleet/kernel/journal-anchor';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { FLEET_OWNED_SECRETS } from '@agent-fleet/kernel/fleet-owned-secrets';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { ContainerRuntime, VolumeSwapOutcome } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { ClientSecretsService } from '../../../orchestrator/src/services/client-secrets.ts';
import { ACME, RUNNING_AGENT, oneBackup, restoreService, statusRegistry } from './restore-bed.ts';

async function restore(writeFails: boolean) {
  let status: ClientStatus = 'active';
  const steps: string[] = [];
  const vault = new Map<string, string>();
  const registry = statusRegistry({ get: () => status, set: (to) => void (status = to) });
  const runtime = {
    ensureVolume: async () => ({ created: false }),
    inspectAgent: async () => RUNNING_AGENT,
    stopAgent: async () => void steps.push('stop agent'),
    removeAgent: async () => undefined,
    createAgent: async () => undefined,
    startAgent: async () => void steps.push('start agent'),
    volumes: {
      recover: async (): Promise<VolumeSwapOutcome> => 'clean',
      stage: async (_clientId: ClientId, _image: string, _name: string, content: AsyncIterable<Uint8Array>) => {
        for await (const _chunk of content);
      },
      swap: async (): Promise<VolumeSwapOutcome> => {
        steps.push('swap');
        return 'swapped';
      },
    } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const secrets: Pick<SecretStore, 'writeSecret'> = {
    writeSecret: async (_clientId, name, value) => {
      if (writeFails) throw new FleetError('unavailable', 'vault: write secret failed (503)', { retryable: true });
      steps.push(`write ${name}`);
      vault.set(name, value);
      return { version: 1 };
    },
  };
  const { backups, backupId } = await oneBackup();
  const service = restoreService({
    registry,
    runtime,
    backups,
    introduce: async () => undefined,
    verifyChain: async () => ({ ok: true, restoredHead: null, checkpoint: null, missingRecords: 0, message: '' }),
    secrets,
  });
  const error = await service.restore({ clientId: ACME, backupId, actor: 'ops' }).then(
    () => null,
    (failure: unknown) => failure,
  );
  return { error, steps, vault, backupId };
}

describe('a restore and the journal heads recorded in Vault', () => {
  test('the record is reset after the agent stopped and before the backup is swapped in', async () => {
    const run = await restore(false);
    assert.equal(run.error, null, String(run.error));
    assert.deepEqual(run.steps, ['stop agent', `write ${JOURNAL_ANCHOR_SECRET}`, 'swap', 'start agent']);
    const document = parseAnchorDocument(run.vault.get(JOURNAL_ANCHOR_SECRET) ?? '');
    assert.equal(document.kind, 'reset', 'the agent reads it as a reset');
    assert.ok(document.kind === 'reset' && document.reason.includes(run.backupId));
  });

  test('a reset that cannot be written fails the restore before the swap: the agent is started on its own volume', async () => {
    const run = await restore(true);
    assert.match(String((run.error as Error | null)?.message), /write secret failed/);
    assert.deepEqual(run.steps, ['stop agent', 'start agent']);
  });
});

describe('fleet secrets set', () => {
  function recordingService(written: string[], status: ClientStatus = 'active'): ClientSecretsService {
    return new ClientSecretsService({
      registry: { getClient: async () => ({ id: ACME, status }), appendOpsLog: async () => undefined } as unknown as Registry,
      secrets: {
        writeSecret: async (_clientId: ClientId, name: string) => {
          written.push(name);
          return { version: 1 };
        },
      } as Partial<SecretStore> as SecretStore,
    });
  }

  test('refuses to write the journal heads of the agent', async () => {
    const written: string[] = [];
    await assert.rejects(recordingService(written).set({ clientId: 'acme', name: JOURNAL_ANCHOR_SECRET, value: '{"format":1,"heads":{}}', actor: 'ops' }), /reserved for the agent/);
    assert.deepEqual(written, []);
  });

  test('refuses every secret the fleet writes itself (the control token hash, the Gmail push watch), and stores others', async () => {
    const written: string[] = [];
    for (const name of FLEET_OWNED_SECRETS.keys()) {
      await assert.rejects(recordingService(written).set({ clientId: 'acme', name, value: '{}', actor: 'ops' }), /reserved for the (agent|orchestrator)/);
    }
    assert.deepEqual([...FLEET_OWNED_SECRETS.keys()].sort(), ['control', 'journal-heads', 'push']);
    assert.deepEqual(written, []);
    await recordingService(written).set({ clientId: 'acme', name: 'anthropic', value: '{}', actor: 'ops' });
    assert.deepEqual(written, ['anthropic']);
  });

  test('stores nothing for a closed client (a grant would stay live for nobody); a killed one still takes secrets', async () => {
    const written: string[] = [];
    for (const closed of ['deprovisioning', 'deprovisioned'] as const) {
      await assert.rejects(recordingService(written, closed).set({ clientId: 'acme', name: 'gmail', value: '{}', actor: 'ops' }), /is closed/);
    }
    assert.deepEqual(written, []);
    await recordingService(written, 'killed').set({ clientId: 'acme', name: 'gmail', value: '{}', actor: 'ops' });
    assert.deepEqual(written, ['gmail']);
  });
});
