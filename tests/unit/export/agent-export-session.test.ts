// The agent's data export session: opened by a wrapped introduction on an open route, so what a forged one
// may do to the session in progress matters. A stand-in secret source plays Vault.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { DataExportSessions, type ExportSecretSourceFactory, type RedeemableSecretSource } from '../../../agent-image/src/services/data-export/export-session.ts';
import { runtimePaths } from '../../../agent-image/src/services/runtime/runtime-paths.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

/** A secret source that redeems only `validWraps` and serves the control token's hash. */
function secretSources(
  validWraps: Set<string>,
  controlToken: string,
  stopped: string[],
): ExportSecretSourceFactory {
  return (input) => {
    const wrap = input.wrappingToken;
    return {
      redeem: async () => {
        if (!validWraps.has(wrap)) throw new FleetError('integrity', 'the wrapping token was not redeemable');
      },
      start: async () => undefined,
      readSecrets: async () => new Map(),
      readSecretData: async (name) =>
        name === 'control' ? { token_sha256: createHash('sha256').update(controlToken).digest('hex') } : null,
      writeSecret: async () => undefined,
      dataKey: () => Buffer.alloc(32, 7),
      revoked: false,
      onRevoked: () => () => undefined,
      stop: async () => void stopped.push(wrap),
    } satisfies RedeemableSecretSource;
  };
}

async function sessionsBed(idleMs?: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'agent-export-session-data-'));
  const tmpDir = await mkdtemp(join(tmpdir(), 'agent-export-session-tmp-'));
  directories.push(dataDir, tmpDir);
  const wrappedKey = runtimePaths(dataDir).wrappedKey;
  await mkdir(dirname(wrappedKey), { recursive: true });
  await writeFile(wrappedKey, 'wrapped');
  const controlToken = randomBytes(24).toString('hex');
  const goodWrap = randomBytes(12).toString('hex');
  const stopped: string[] = [];
  const sessions = new DataExportSessions({
    clientId: 'acme',
    dataDir,
    tmpDir,
    vaultAddr: 'https://127.0.0.1:8200',
    secretSource: secretSources(new Set([goodWrap]), controlToken, stopped),
    logger: createSilentLogger(),
    ...(idleMs === undefined ? {} : { idleMs }),
  });
  return { sessions, controlToken, goodWrap, stopped, tmpDir };
}

describe('the agent’s data export session', () => {
  test('a forged introduction is refused and leaves the export in progress open', async () => {
    const { sessions, controlToken, goodWrap, stopped, tmpDir } = await sessionsBed();
    await sessions.open({ wrappingToken: goodWrap, creationPath: sessions.expectedCreationPath });
    await sessions.authenticate(controlToken);
    await assert.rejects(
      sessions.open({ wrappingToken: 'forged', creationPath: sessions.expectedCreationPath }),
      (error: unknown) => isFleetError(error) && error.code === 'integrity',
    );
    await sessions.authenticate(controlToken);
    assert.ok(sessions.lease().reader);
    assert.deepEqual(stopped, ['forged'], 'only the refused source was stopped');
    // The refused attempt's copy of the wrapped key is gone; the open session keeps its own.
    assert.equal((await readdir(tmpDir)).length, 1);
    await sessions.close();
    assert.deepEqual((await readdir(tmpDir)).length, 0);
  });

  test('a new valid introduction replaces the open session', async () => {
    const { sessions, controlToken, goodWrap, stopped } = await sessionsBed();
    await sessions.open({ wrappingToken: goodWrap, creationPath: sessions.expectedCreationPath });
    await sessions.open({ wrappingToken: goodWrap, creationPath: sessions.expectedCreationPath });
    assert.deepEqual(stopped, [goodWrap]);
    await sessions.authenticate(controlToken);
    await sessions.close();
  });

  test('a part still streaming keeps the session open past the idle time; the idle timer starts again when it ends', async () => {
    const { sessions, controlToken, goodWrap, stopped } = await sessionsBed(40);
    await sessions.open({ wrappingToken: goodWrap, creationPath: sessions.expectedCreationPath });
    const lease = sessions.lease();
    await delay(150);
    await sessions.authenticate(controlToken);
    assert.equal(lease.signal.aborted, false);
    assert.deepEqual(stopped, [], 'the session was not closed under a running stream');
    lease.release();
    lease.release();
    await delay(150);
    await assert.rejects(sessions.authenticate(controlToken), (error: unknown) => isFleetError(error) && error.code === 'unavailable');
    assert.deepEqual(stopped, [goodWrap]);
  });

  test('closing the session stops a stream still reading through it', async () => {
    const { sessions, goodWrap } = await sessionsBed();
    await sessions.open({ wrappingToken: goodWrap, creationPath: sessions.expectedCreationPath });
    const lease = sessions.lease();
    await sessions.close();
    assert.throws(() => lease.signal.throwIfAborted(), (error: unknown) => isFleetError(error) && error.code === 'unavailable');
    lease.release();
  });
});
