// The export session copies the volume's wrapped data key once its introduction is redeemed. The volume is
// untrusted: a FIFO there must not hang the open (and every open queued behind it), a link must not be
// followed out of the volume, and a huge file must not be copied into the temp directory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { DataExportSessions, type RedeemableSecretSource } from '../../../agent-image/src/services/data-export/export-session.ts';
import { runtimePaths } from '../../../agent-image/src/services/runtime/runtime-paths.ts';

const directories: string[] = [];
const fifos: string[] = [];
after(async () => {
  // A reader left blocked on a FIFO (without the fix) is let go, so the process can end.
  for (const fifo of fifos) await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then((handle) => handle.close(), () => undefined);
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

function source(): RedeemableSecretSource {
  return {
    redeem: async () => undefined,
    start: async () => undefined,
    readSecrets: async () => new Map(),
    readSecretData: async () => ({ token_sha256: '0'.repeat(64) }),
    writeSecret: async () => undefined,
    dataKey: () => Buffer.alloc(32, 7),
    revoked: false,
    onRevoked: () => () => undefined,
    stop: async () => undefined,
  };
}

async function bed(): Promise<{ sessions: DataExportSessions; wrappedKey: string; outside: string; tmpDir: string }> {
  const root = await mkdtemp(join(tmpdir(), 'export-session-key-file-'));
  directories.push(root);
  const dataDir = join(root, 'volume');
  const tmpDir = join(root, 'tmp');
  const outside = join(root, 'outside');
  await mkdir(tmpDir, { recursive: true });
  await mkdir(outside);
  const wrappedKey = runtimePaths(dataDir).wrappedKey;
  await mkdir(dirname(wrappedKey), { recursive: true });
  const sessions = new DataExportSessions({ clientId: 'acme', dataDir, tmpDir, vaultAddr: 'https://127.0.0.1:8200', secretSource: () => source(), logger: createSilentLogger() });
  return { sessions, wrappedKey, outside, tmpDir };
}

const isIntegrity = (error: unknown) => error instanceof FleetError && error.code === 'integrity';

describe('the export session reads the wrapped data key of an untrusted volume', () => {
  test('a FIFO is refused at once, and the next open is not stuck behind it', { timeout: 20_000 }, async () => {
    const { sessions, wrappedKey, tmpDir } = await bed();
    execFileSync('mkfifo', [wrappedKey]);
    fifos.push(wrappedKey);
    await assert.rejects(sessions.open({ wrappingToken: 'wrap', creationPath: sessions.expectedCreationPath }), isIntegrity);
    await rm(wrappedKey);
    await writeFile(wrappedKey, 'vault:v1:wrapped\n');
    await sessions.open({ wrappingToken: 'wrap', creationPath: sessions.expectedCreationPath });
    assert.equal((await readdir(tmpDir)).length, 1, 'only the open session keeps a key copy');
    await sessions.close();
  });

  test('a link to a file outside the volume is not followed', async () => {
    const { sessions, wrappedKey, outside } = await bed();
    await writeFile(join(outside, 'other-key'), 'vault:v1:someone-else\n');
    await symlink(join(outside, 'other-key'), wrappedKey);
    await assert.rejects(sessions.open({ wrappingToken: 'wrap', creationPath: sessions.expectedCreationPath }), isIntegrity);
  });

  test('a file far larger than a wrapped key is refused, not copied', async () => {
    const { sessions, wrappedKey, tmpDir } = await bed();
    await writeFile(wrappedKey, '');
    // Sparse: no disk used by the volume, but a copy would write it all.
    await truncate(wrappedKey, 1024 ** 3);
    await assert.rejects(sessions.open({ wrappingToken: 'wrap', creationPath: sessions.expectedCreationPath }), isIntegrity);
    assert.deepEqual(await readdir(tmpDir), []);
  });

  test('a volume with no wrapped key is still not_found', async () => {
    const { sessions } = await bed();
    await assert.rejects(sessions.open({ wrappingToken: 'wrap', creationPath: sessions.expectedCreationPath }), (error: unknown) => error instanceof FleetError && error.code === 'not_found');
  });
});
