// The export session's open route has no credential but the wrapped introduction. Until the wrap is
// redeemed, nothing of the volume may show in the answer: not whether it holds a data key, nor what lies
// where the key should be (a link, a FIFO, a huge file) or where that is.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { DataExportSessions, type RedeemableSecretSource } from '../../../agent-image/src/services/data-export/export-session.ts';
import { runtimePaths } from '../../../agent-image/src/services/runtime/runtime-paths.ts';

const directories: string[] = [];
const fifos: string[] = [];
after(async () => {
  for (const fifo of fifos) await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then((handle) => handle.close(), () => undefined);
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

/** A stand-in Vault that redeems no wrap at all; `seen` is called when it is first asked. */
function refusingSource(seen: () => Promise<void> = async () => undefined): RedeemableSecretSource {
  const refused = async () => {
    await seen();
    throw new FleetError('invalid_input', 'vault: look up introduction failed (400)');
  };
  return {
    redeem: refused,
    start: refused,
    readSecrets: async () => new Map(),
    readSecretData: async () => null,
    writeSecret: async () => undefined,
    dataKey: () => Buffer.alloc(32, 7),
    revoked: false,
    onRevoked: () => () => undefined,
    stop: async () => undefined,
  };
}

type Planting = (wrappedKey: string, outside: string) => Promise<void>;

const volumes: Record<string, Planting> = {
  'no data key': async () => undefined,
  'a data key': async (wrappedKey) => writeFile(wrappedKey, 'vault:v1:wrapped\n'),
  'a link out of the volume': async (wrappedKey, outside) => {
    await writeFile(join(outside, 'other-key'), 'vault:v1:someone-else\n');
    await symlink(join(outside, 'other-key'), wrappedKey);
  },
  'a FIFO': async (wrappedKey) => {
    execFileSync('mkfifo', [wrappedKey]);
    fifos.push(wrappedKey);
  },
  'a huge file': async (wrappedKey) => {
    await writeFile(wrappedKey, '');
    await truncate(wrappedKey, 1024 ** 3);
  },
};

interface Refusal {
  code: string;
  message: string;
  root: string;
  /** What the temp directory held when the wrap was presented to Vault. */
  tmpWhenAsked: string[];
}

async function refusal(planting: Planting): Promise<Refusal> {
  const root = await mkdtemp(join(tmpdir(), 'export-before-redemption-'));
  directories.push(root);
  const dataDir = join(root, 'volume');
  const tmpDir = join(root, 'tmp');
  const outside = join(root, 'outside');
  const wrappedKey = runtimePaths(dataDir).wrappedKey;
  await mkdir(dirname(wrappedKey), { recursive: true });
  await mkdir(tmpDir);
  await mkdir(outside);
  await planting(wrappedKey, outside);
  let tmpWhenAsked: string[] | null = null;
  const seen = async () => {
    tmpWhenAsked ??= await readdir(tmpDir);
  };
  const sessions = new DataExportSessions({ clientId: 'acme', dataDir, tmpDir, vaultAddr: 'https://127.0.0.1:8200', secretSource: () => refusingSource(seen), logger: createSilentLogger() });
  const error = await sessions.open({ wrappingToken: 'forged', creationPath: sessions.expectedCreationPath }).then(
    () => assert.fail('a forged introduction opened a session'),
    (caught: unknown) => caught,
  );
  assert.ok(isFleetError(error), String(error));
  assert.ok(tmpWhenAsked !== null, 'the wrap was never presented');
  return { code: error.code, message: error.message, root, tmpWhenAsked };
}

describe('an export session introduction that cannot be redeemed', () => {
  test('is refused alike whatever the volume holds, with no path in the answer', async () => {
    const answers = new Map<string, string>();
    for (const [what, planting] of Object.entries(volumes)) {
      const { code, message, root } = await refusal(planting);
      assert.ok(!message.includes(root), `${what}: the answer names a path: ${message}`);
      answers.set(what, `${code}: ${message}`);
    }
    assert.deepEqual(new Set(answers.values()).size, 1, JSON.stringify(Object.fromEntries(answers), null, 1));
  });

  test('is presented to Vault before the volume key is copied anywhere', async () => {
    const { tmpWhenAsked } = await refusal(volumes['a data key'] as Planting);
    assert.deepEqual(tmpWhenAsked, []);
  });
});
