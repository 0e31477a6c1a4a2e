// The complete export as a service: who may have it, what it holds, and what it does to the client's other
// operations while it runs. Stand-ins for the registry, Vault, the engine and the agent's control API; the
// real ones run in tests/integration/data-lifecycle/export.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { PURGE_ACTION } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/domain/ops-log-entry.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import type { AgentWorkloadState, ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ClientRecord, NewOpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { ClientExportService, type ClientExportDependencies } from '../../../orchestrator/src/services/export/client-export-service.ts';
import { loadOrCreateExportSigner } from '../../../orchestrator/src/services/export/export-signing-key.ts';
import { Collector, readTar } from './archive-helpers.ts';
import { acmeRecord } from '../../helpers/client-record.ts';

const ACME = parseClientId('acme');
const NOW = new Date('2026-12-06T12:00:00.000Z');
const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

const activeClient = (): ClientRecord => acmeRecord({ configYaml: 'client: acme\nadmins: [admin@acme.example]\n' });

function opsEntry(seq: number, action: string, actor: string, details: Record<string, unknown> = {}): OpsLogEntry {
  return { seq, at: new Date(NOW.getTime() - (100 - seq) * 60_000).toISOString(), actor, action, clientId: ACME, reason: null, outcome: 'success', details, prevHash: '0'.repeat(64), hash: String(seq).padStart(64, '0') };
}

/** What the stand-in agent streams for a part: chunks, then the end (or nothing more, ever, with `hang`). */
type PartBody = { chunks: (string | Buffer)[]; hang?: boolean };

interface Bed {
  service: ClientExportService;
  guard: ClientOperationGuard;
  opsLog: OpsLogEntry[];
  calls: string[];
}

async function bed(options: { client?: ClientRecord | null; opsLog?: OpsLogEntry[]; parts?: Partial<Record<string, PartBody>>; stallTimeoutMs?: number } = {}): Promise<Bed> {
  const spoolDir = await mkdtemp(join(tmpdir(), 'client-export-service-'));
  directories.push(spoolDir);
  const calls: string[] = [];
  const opsLog = [...(options.opsLog ?? [])];
  const client = options.client === undefined ? activeClient() : options.client;
  const registry = {
    getClient: async () => client,
    listOpsLog: async () => [...opsLog],
    appendOpsLog: async (entry: NewOpsLogEntry) => {
      const appended: OpsLogEntry = { ...entry, seq: opsLog.length + 1, at: NOW.toISOString(), prevHash: '0'.repeat(64), hash: '1'.repeat(64) };
      opsLog.push(appended);
      return appended;
    },
  } as Partial<Registry> as Registry;
  const secrets = {
    readControlToken: async () => 'control-token',
    listSecrets: async () => [],
    isLocked: async () => false,
    revokeAgentTokens: async () => ({ revoked: 0 }),
    issueAgentIntroduction: async () => ({ wrappingToken: 'wrap', creationPath: 'auth/token/create/fleet-acme', ttlSeconds: 60, tokenAccessor: 'accessor' }),
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    inspectAgent: async (): Promise<AgentWorkloadState> => ({ clientId: ACME, exists: true, running: true, status: 'running', exitCode: null, startedAt: null, endpoints: { control: '10.9.0.2:8080', metrics: '10.9.0.2:9464' } }),
    volumes: { removeHelpers: async () => void calls.push('removeHelpers') } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const control = {
    request: async (_clientId: ClientId, _address: string, _token: string, method: string, path: string) => void calls.push(`${method} ${path}`),
    stream: async (_clientId: ClientId, _address: string, _token: string, path: string, sink: NodeJS.WritableStream) => {
      calls.push(`GET ${path}`);
      const body = options.parts?.[path.replace('/v1/data-export/', '')] ?? { chunks: [] };
      for (const chunk of body.chunks) sink.write(chunk);
      if (body.hang === true) await new Promise(() => undefined);
    },
  } as Partial<AgentControl> as AgentControl;
  let document: unknown = null;
  const signer = await loadOrCreateExportSigner({ load: async () => document, save: async (saved) => void (document = saved) }, NOW);
  const guard = new ClientOperationGuard();
  const deps: ClientExportDependencies = {
    registry,
    secrets,
    support: { authorize: async () => ({}) as never },
    agentData: { config: loadConfig({ AGENT_FLEET_HOME: '/nonexistent-home' }), runtime, secrets, control, health: { isHealthy: async () => true }, vaultAddressFor: async () => 'https://10.9.0.1:8200', logger: createSilentLogger() },
    signer,
    clock: { now: () => NOW },
    spoolDir,
    logger: createSilentLogger(),
    guard,
    ...(options.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: options.stallTimeoutMs }),
  };
  return { service: new ClientExportService(deps), guard, opsLog, calls };
}

const operator = { kind: 'operator', member: 'ops:bob' } as const;

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the complete export of a client', () => {
  test('an active client is exported under its operation guard: an erasure asked meanwhile, or a second export, is refused as busy', async () => {
    const { service, guard } = await bed({ parts: { 'audit.jsonl': { chunks: [] } } });
    const { promise: released, resolve: release } = Promise.withResolvers<void>();
    // A downloader that takes the first bytes only once the test has tried the other operations.
    const slow = new Writable({
      write(_chunk, _encoding, callback) {
        void released.then(() => callback());
      },
    });
    const running = service.export({ clientId: 'acme', requester: operator }, slow);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const busy = (error: unknown) => isFleetError(error) && error.code === 'busy' && /data export is in progress/.test(error.message);
    await assert.rejects(guard.exclusive(ACME, 'erasure', async () => 'erased'), busy);
    await assert.rejects(service.export({ clientId: 'acme', requester: operator }, new Collector()), busy);
    release();
    await running;
    assert.equal(await guard.exclusive(ACME, 'erasure', async () => 'erased'), 'erased');
  });

  test('an export of an active client waits for nothing and starts nothing while an erasure holds the client', async () => {
    const { service, guard, calls } = await bed();
    const { promise: erasing, resolve: finishErasure } = Promise.withResolvers<void>();
    const erasure = guard.exclusive(ACME, 'erasure', () => erasing);
    await assert.rejects(service.export({ clientId: 'acme', requester: operator }, new Collector()), (error: unknown) => isFleetError(error) && error.code === 'busy');
    assert.deepEqual(calls, [], 'the export touched the agent while the client was being erased');
    finishErasure();
    await erasure;
  });

  test('an agent that stops sending mid-part does not hold the export (and the client) for ever', async () => {
    const { service, guard, calls } = await bed({ parts: { 'audit.jsonl': { chunks: ['{"seq":1'], hang: true } }, stallTimeoutMs: 200 });
    await within(
      5_000,
      assert.rejects(service.export({ clientId: 'acme', requester: operator }, new Collector()), (error: unknown) => isFleetError(error) && error.code === 'timeout' && error.retryable),
    );
    assert.ok(calls.includes('POST /v1/data-export/session/close'), 'the export session was not closed');
    assert.equal(guard.runningOn(ACME), undefined);
  });

  test('a downloader that stops reading does not hold the export (and the client) for ever', async () => {
    const line = `${JSON.stringify({ kind: 'event', text: 'x'.repeat(100_000) })}\n`;
    const { service, guard } = await bed({ parts: { 'state.jsonl': { chunks: Array.from({ length: 20 }, () => line) } }, stallTimeoutMs: 200 });
    const stuck = new Writable({ highWaterMark: 1024, write: () => undefined });
    await within(5_000, assert.rejects(service.export({ clientId: 'acme', requester: operator }, stuck), (error: unknown) => isFleetError(error) && error.code === 'timeout'));
    assert.equal(guard.runningOn(ACME), undefined);
  });

  test('a client made again under an erased client’s id is not given the earlier client’s ops log', async () => {
    const earlier = [
      opsEntry(1, 'provision', 'ops:carol', { note: 'the first acme' }),
      opsEntry(2, 'support-access', 'ops:dave', { incident: 'INC-1' }),
      opsEntry(3, 'erase', 'ops:carol', { requestId: 'DSR-1', certificate: { requestId: 'DSR-1' } }),
    ];
    const now = [opsEntry(4, 'provision', 'ops:erin', { note: 'the new acme' })];
    const { service } = await bed({ opsLog: [...earlier, ...now] });
    const out = new Collector();
    await service.export({ clientId: 'acme', requester: operator }, out);
    const opsLog = (await readTar(out.bytes())).find((entry) => entry.name === 'ops-log/ops-log.jsonl');
    const seqs = (opsLog?.content.toString('utf8').trim().split('\n') ?? []).map((line) => (JSON.parse(line) as { seq: number }).seq);
    assert.deepEqual(seqs, [4]);
  });

  test('an erased client’s export holds its own life only: not an earlier erased client’s, nor a later purged one’s', async () => {
    const first = [opsEntry(1, 'provision', 'ops:carol', { note: 'the first acme' }), opsEntry(2, 'erase', 'ops:carol', { requestId: 'DSR-1', certificate: { requestId: 'DSR-1' } })];
    const second = [opsEntry(3, 'provision', 'ops:erin', { note: 'the second acme' }), opsEntry(4, 'kill', 'ops:erin'), opsEntry(5, 'erase', 'ops:erin', { requestId: 'DSR-2', certificate: { requestId: 'DSR-2' } })];
    const { service } = await bed({ client: null, opsLog: [...first, ...second] });
    const out = new Collector();
    await service.export({ clientId: 'acme', requester: operator }, out);
    const archive = await readTar(out.bytes());
    const seqs = (archive.find((entry) => entry.name === 'ops-log/ops-log.jsonl')?.content.toString('utf8').trim().split('\n') ?? []).map((line) => (JSON.parse(line) as { seq: number }).seq);
    assert.deepEqual(seqs, [3, 4, 5]);
    assert.match(archive.find((entry) => entry.name === 'erasure/deletion-certificate.json')?.content.toString('utf8') ?? '', /DSR-2/);

    // A later client under the id, closed and purged (not erased): the erasure is not its, and it holds nothing.
    const purged = [opsEntry(6, 'provision', 'ops:frank', { note: 'the third acme' }), opsEntry(7, PURGE_ACTION, 'ops:frank')];
    const later = await bed({ client: null, opsLog: [...first, ...second, ...purged] });
    await assert.rejects(later.service.export({ clientId: 'acme', requester: operator }, new Collector()), (error: unknown) => isFleetError(error) && error.code === 'not_found');
  });

  test('an erased client’s export is not handed to a client admin (its admins are gone: nobody can be checked)', async () => {
    const erasure = opsEntry(3, 'erase', 'ops:carol', { requestId: 'DSR-1', certificate: { requestId: 'DSR-1' } });
    const { service } = await bed({ client: null, opsLog: [opsEntry(1, 'provision', 'ops:carol'), erasure] });
    await assert.rejects(
      service.export({ clientId: 'acme', requester: { kind: 'client', admin: 'someone@other.example' } }, new Collector()),
      (error: unknown) => isFleetError(error) && error.code === 'forbidden',
    );
    const out = new Collector();
    await service.export({ clientId: 'acme', requester: operator }, out);
    assert.ok((await readTar(out.bytes())).some((entry) => entry.name === 'erasure/deletion-certificate.json'));
  });

  test('a sent message larger than a mebibyte is exported whole, not refused as an over-long line', async () => {
    const message = { idempotencyKey: 'k1', status: 'sent', message: { to: ['a@b.example'], subject: 'report', text: 'é'.repeat(3 * 1024 * 1024), html: null } };
    const line = `${JSON.stringify(message)}\n`;
    const chunks: Buffer[] = [];
    const bytes = Buffer.from(line);
    // Cut inside a two-byte character now and then, as a network would.
    for (let at = 0; at < bytes.length; at += 65_537) chunks.push(bytes.subarray(at, at + 65_537));
    const { service } = await bed({ parts: { 'outbox.jsonl': { chunks } } });
    const out = new Collector();
    await service.export({ clientId: 'acme', requester: operator }, out);
    const outbox = (await readTar(out.bytes())).find((entry) => entry.name === 'mail/outbox.jsonl');
    assert.equal(outbox?.content.toString('utf8'), line);
  });

  test('bytes from the agent that are not UTF-8 are refused, not turned into replacement characters', async () => {
    const { service } = await bed({ parts: { 'state.jsonl': { chunks: [Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')] } } });
    await assert.rejects(service.export({ clientId: 'acme', requester: operator }, new Collector()), (error: unknown) => isFleetError(error) && error.code === 'integrity' && /not UTF-8/.test(error.message));
  });
});
