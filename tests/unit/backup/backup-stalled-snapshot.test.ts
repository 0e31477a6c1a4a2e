// A snapshot stream that stops sending without ending (an engine that hung) must not keep the agent
// frozen, the client's one operation held (its erasure refused as busy) and the nightly run stuck for
// ever: after the idle deadline the backup fails, stores nothing, thaws the agent and stops the stream.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ClientRecord, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientBackups } from '../../../orchestrator/src/services/backup/client-backups.ts';
import type { IdleTimer } from '../../../orchestrator/src/services/backup/idle-deadline.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { directoryBackupServices, smallestVolumeTar } from './backup-run-bed.ts';

const ACME = parseClientId('acme');
const now = () => new Date('2026-12-10T03:15:00.000Z');

const backupService = directoryBackupServices('backup-stalled-');

/** Idle waits that expire only when the test says so. */
function manualTimer() {
  const waits: Array<() => void> = [];
  let notify: () => void = () => undefined;
  const timer: IdleTimer = () => {
    let expire: () => void = () => undefined;
    const expired = new Promise<void>((resolve) => (expire = resolve));
    waits.push(expire);
    notify();
    return { expired, cancel: () => undefined };
  };
  /** Resolves once `count` waits have been started. */
  const started = (count: number) =>
    new Promise<void>((resolve) => {
      notify = () => (waits.length >= count ? resolve() : undefined);
      notify();
    });
  return { timer, started, expireLatest: () => waits.at(-1)?.() };
}

void describe('a snapshot that stalls', () => {
  // Without the deadline the backup never settles: the timeout turns that hang into a failure.
  test('fails the backup after the idle deadline: nothing stored, agent thawed, stream stopped, client released', { timeout: 30_000 }, async () => {
    // The first entries arrive, then the engine sends nothing more and never ends the stream.
    const source = new PassThrough();
    source.write((await smallestVolumeTar()).subarray(0, 1024));

    const record = { id: ACME, status: 'active' } as ClientRecord;
    const registry = { getClient: async () => record, listClients: async () => [record], appendOpsLog: async () => assert.fail('no backup may be recorded') } as Partial<Registry> as Registry;
    let thawed = 0;
    const runtime = {
      volumes: {
        freezeAgent: async () => true,
        thawAgent: async () => void (thawed += 1),
        snapshot: async () => source,
      } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
    } as Partial<ContainerRuntime> as ContainerRuntime;
    const { service, root } = await backupService(ACME, now);
    const guard = new ClientOperationGuard();
    const idle = manualTimer();
    const backups = new ClientBackups({ config: loadConfig({ AGENT_FLEET_HOME: '/nonexistent-home' }), registry, runtime, backups: service, guard, logger: createSilentLogger(), snapshotIdleMs: 60_000, idleTimer: idle.timer });

    const outcome = backups.backup({ clientId: ACME, actor: 'ops' }).then(
      () => 'stored' as const,
      (error: unknown) => error,
    );
    // The written bytes were read (one wait), and the backup now waits for more (a second wait).
    await Promise.race([idle.started(2), outcome]);
    idle.expireLatest();
    const error = await outcome;
    assert.ok(isFleetError(error) && error.code === 'unavailable' && error.retryable, `the backup fails as retryable: ${String(error)}`);
    assert.equal(thawed, 1, 'the agent is thawed');
    assert.equal(source.destroyed, true, 'the stalled stream is stopped');
    assert.equal(guard.runningOn(ACME), undefined, 'the client is no longer held');
    assert.deepEqual(await service.list(ACME), []);
    assert.deepEqual(await readdir(join(root, ACME)).catch(() => []), [], 'no temp file left');
  });
});
