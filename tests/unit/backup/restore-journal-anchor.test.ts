// A restore from a backup older than the journal heads the agent recorded in Vault: the restore resets that
// record after the agent stopped (and recorded its last heads) and before the backup is swapped in, so the
// restored agent opens its volume instead of refusing it as rolled back. A reset that cannot be written
// leaves the volume as it was. `fleet secrets set` cannot write the record.
import { JOURNAL_ANCHOR_SECRET, parseAnchorDocument } from '@agent-fleet/kernel/journal-anchor';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import { describe, test } from 'node:test';
import tar from 'tar-stream';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { AgentHealthProbe } from '../../../orchestrator/src/ports/agent-health.ts';
import type { BackupInfo, BackupStore } from '../../../orchestrator/src/ports/backup-store.ts';
import type { ContainerRuntime, VolumeSwapOutcome } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ClientRecord, NewOpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { BackupService } from '../../../orchestrator/src/services/backup/backup-service.ts';
import { RestoreClientService } from '../../../orchestrator/src/services/backup/restore-client.ts';
import { ClientSecretsService } from '../../../orchestrator/src/services/client-secrets.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';

const ACME = parseClientId('acme');
const now = () => new Date('2026-12-10T12:00:00.000Z');

async function snapshot(): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: './', type: 'directory' });
  pack.entry({ name: './keys/', type: 'directory' });
  pack.entry({ name: './keys/data-key.wrapped' }, 'vault:v1:abc');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function memoryStore(): BackupStore {
  const kept = new Map<string, Buffer>();
  return {
    async put(clientId: ClientId, backupId: string, content: AsyncIterable<Uint8Array>): Promise<BackupInfo> {
      const parts: Buffer[] = [];
      for await (const chunk of content) parts.push(Buffer.from(chunk));
      kept.set(backupId, Buffer.concat(parts));
      return { clientId, backupId, createdAt: now().toISOString(), sizeBytes: kept.get(backupId)?.length ?? 0 };
    },
    list: async (clientId) => [...kept].map(([backupId, bytes]) => ({ clientId, backupId, createdAt: now().toISOString(), sizeBytes: bytes.length })),
    get: async (_clientId, backupId) => ReadableStream.from([kept.get(backupId) ?? Buffer.alloc(0)]) as Readable,
    delete: async (_clientId, backupId) => kept.delete(backupId),
    deleteAll: async () => 0,
  };
}

async function restore(writeFails: boolean) {
  let status: ClientStatus = 'active';
  const steps: string[] = [];
  const vault = new Map<string, string>();
  const record = (): ClientRecord => ({ id: ACME, status, provider: 'gmail', admins: [], configYaml: '', subnet: '10.9.0.0/29', onboardingStartedAt: now().toISOString(), operationId: null, operationHeartbeatAt: null, statusReason: null, createdAt: now().toISOString(), updatedAt: now().toISOString() });
  const registry = {
    getClient: async () => record(),
    transition: async (_id: ClientId, from: readonly ClientStatus[], to: ClientStatus) => {
      if (!from.includes(status)) return false;
      status = to;
      return true;
    },
    appendOpsLog: async (entry: NewOpsLogEntry) => ({ ...entry, seq: 1, at: now().toISOString(), prevHash: '', hash: '' }),
  } as Partial<Registry> as Registry;
  const runtime = {
    ensureVolume: async () => ({ created: false }),
    inspectAgent: async () => ({ clientId: ACME, exists: true, running: true, status: 'running', exitCode: null, startedAt: now().toISOString(), endpoints: { control: '127.0.0.1:1', metrics: '127.0.0.1:2' } }),
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
  const backups = new BackupService({ store: memoryStore(), keys: new MemoryKeyWrapper([ACME]), clock: { now }, logger: createSilentLogger() });
  const bytes = await snapshot();
  const info = await backups.create(ACME, (async function* () {
    yield bytes;
  })());
  const service = new RestoreClientService({
    config: loadConfig({ AGENT_FLEET_HOME: '/nonexistent-home' }),
    registry,
    runtime,
    targets: { register: async () => undefined, unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets,
    health: { isHealthy: async () => true } as AgentHealthProbe,
    backups,
    guard: new ClientOperationGuard(),
    clock: { now },
    logger: createSilentLogger(),
    vaultAddressFor: async () => 'https://10.9.0.1:8200',
    introduce: async () => undefined,
    verifyChain: async () => ({ ok: true, restoredHead: null, checkpoint: null, missingRecords: 0, message: '' }),
    secrets,
  });
  const error = await service.restore({ clientId: ACME, backupId: info.backupId, actor: 'ops' }).then(
    () => null,
    (failure: unknown) => failure,
  );
  return { error, steps, vault, backupId: info.backupId };
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
  test('refuses to write the journal heads of the agent', async () => {
    const written: string[] = [];
    const service = new ClientSecretsService({
      registry: { getClient: async () => ({ id: ACME }), appendOpsLog: async () => undefined } as unknown as Registry,
      secrets: {
        writeSecret: async (_clientId: ClientId, name: string) => {
          written.push(name);
          return { version: 1 };
        },
      } as Partial<SecretStore> as SecretStore,
    });
    await assert.rejects(service.set({ clientId: 'acme', name: JOURNAL_ANCHOR_SECRET, value: '{"format":1,"heads":{}}', actor: 'ops' }), /reserved for the agent/);
    assert.deepEqual(written, []);
  });
});
