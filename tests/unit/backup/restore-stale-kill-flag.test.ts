// A backup taken while the client was killed holds the kill flag the agent wrote in its volume. Restored
// after the client was revived, that flag must not come back: the agent would start killed while the
// registry says active, and `fleet revive` refuses an active client. A killed client keeps its flag.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import tar from 'tar-stream';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { KILL_FLAG_FILE } from '@agent-fleet/kernel/kill-flag';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { ContainerRuntime, VolumeSwapOutcome } from '../../../orchestrator/src/ports/container-runtime.ts';
import { ACME, RUNNING_AGENT, oneBackup, restoreService, statusRegistry } from './restore-bed.ts';

/** The names (and contents) of the entries of a tar stream. */
async function entriesOf(content: AsyncIterable<Uint8Array>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const extract = tar.extract();
  extract.on('entry', (header: tar.Headers, stream: Readable, next: () => void) => {
    const parts: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => parts.push(chunk));
    stream.once('end', () => {
      found.set(header.name, Buffer.concat(parts).toString('utf8'));
      next();
    });
  });
  for await (const chunk of content) if (!extract.write(chunk)) await new Promise((resolve) => extract.once('drain', resolve));
  await new Promise<void>((resolve, reject) => extract.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return found;
}

async function restoreFrom(initial: ClientStatus, files: Readonly<Record<string, string>>) {
  let status: ClientStatus = initial;
  let staged: Map<string, string> | null = null;
  let started = 0;
  const placed: string[] = [];
  const runtime = {
    ensureVolume: async () => ({ created: false }),
    inspectAgent: async () => (started === 0 ? null : RUNNING_AGENT),
    stopAgent: async () => undefined,
    removeAgent: async () => undefined,
    createAgent: async () => undefined,
    startAgent: async () => void (started += 1),
    placeFiles: async (_clientId: ClientId, placedFiles: Readonly<Record<string, string>>) => void placed.push(...Object.keys(placedFiles)),
    volumes: {
      recover: async (): Promise<VolumeSwapOutcome> => 'clean',
      stage: async (_clientId: ClientId, _image: string, _name: string, content: AsyncIterable<Uint8Array>) => {
        staged = await entriesOf(content);
      },
      swap: async (): Promise<VolumeSwapOutcome> => 'swapped',
    } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const { backups, backupId } = await oneBackup(files);
  const service = restoreService({
    registry: statusRegistry({ get: () => status, set: (to) => void (status = to) }),
    runtime,
    backups,
    introduce: async () => undefined,
    verifyChain: async () => ({ ok: true, restoredHead: null, checkpoint: null, missingRecords: 0, message: '' }),
    secrets: { writeSecret: async () => ({ version: 1 }) },
  });
  const result = await service.restore({ clientId: ACME, backupId, actor: 'ops' });
  return { result, status, staged: staged as Map<string, string> | null, placed };
}

describe('a restore and the kill flag a backup holds', () => {
  const flag = { [KILL_FLAG_FILE]: '{"by":"ops","reason":"incident"}\n', 'notes.txt': 'kept' };

  test('an active client is restored without the stale flag: the agent starts free, everything else is staged', async () => {
    const { result, status, staged } = await restoreFrom('active', flag);
    assert.equal(result.started, true);
    assert.equal(status, 'active');
    assert.ok(staged, 'nothing was staged');
    assert.equal(staged.has(`./${KILL_FLAG_FILE}`), false, 'the kill flag of the backup was staged');
    assert.equal(staged.get('./notes.txt'), 'kept');
    assert.equal(staged.get('./keys/data-key.wrapped'), 'vault:v1:abc');
  });

  test('a failed client, started by the restore, does not get the stale flag either', async () => {
    const { result, staged } = await restoreFrom('failed', flag);
    assert.equal(result.started, true);
    assert.equal(staged?.has(`./${KILL_FLAG_FILE}`), false);
  });

  test('a killed client keeps the flag of its backup, and the restore places it again', async () => {
    const { result, status, staged, placed } = await restoreFrom('killed', flag);
    assert.equal(result.started, false);
    assert.equal(status, 'killed');
    assert.equal(staged?.has(`./${KILL_FLAG_FILE}`), true);
    assert.deepEqual(placed, [KILL_FLAG_FILE]);
  });
});
