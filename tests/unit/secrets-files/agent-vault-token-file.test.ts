// The agent's Vault Agent sink reader trusted stat's size: a device such as /dev/zero reports 0 and was read
// without end, and a FIFO opened blocking hung the agent's start (and every re-read while it waits for a new
// token). It now reads regular files only, no further than its bound.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { awaitNewToken, readTokenFile } from '../../../agent-image/src/adapters/vault/vault-token-file.ts';
import { refused } from '../../helpers/refused.ts';

const fakeToken = () => `hvs.${randomBytes(24).toString('base64url')}`;

const refusedFile = (file: string, pattern: RegExp): Promise<void> => refused(readTokenFile(file), 'invalid_input', pattern);

describe("the agent's Vault token file", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'agent-token-file-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a regular file (or a link to one) gives its one token', async () => {
    const token = fakeToken();
    await writeFile(path.join(dir, 'sink'), `${token}\n`);
    await symlink('sink', path.join(dir, 'sink-link'));
    assert.equal(await readTokenFile(path.join(dir, 'sink')), token);
    assert.equal(await readTokenFile(path.join(dir, 'sink-link')), token);
  });

  test('/dev/zero, directly or through a link, is refused at once as not a regular file', { timeout: 10_000 }, async () => {
    await symlink('/dev/zero', path.join(dir, 'zero-link'));
    await refusedFile('/dev/zero', /is not a regular file/);
    await refusedFile(path.join(dir, 'zero-link'), /is not a regular file/);
  });

  test('a FIFO neither hangs the read nor the wait for a new token', { timeout: 10_000 }, async () => {
    const fifo = path.join(dir, 'sink-fifo');
    execFileSync('mkfifo', [fifo]);
    await refusedFile(fifo, /is not a regular file/);
    assert.equal(await awaitNewToken(fifo, () => 'old', 300), null);
  });

  test('a token with a control character is refused: it could not go into a request header', async () => {
    const file = path.join(dir, 'control');
    await writeFile(file, `${fakeToken()}\u0000`);
    await refusedFile(file, /does not hold one token/);
  });

  test('a file over the bound is refused', async () => {
    const file = path.join(dir, 'large');
    await writeFile(file, 'a'.repeat(4097));
    await refusedFile(file, /is larger than 4096 bytes/);
  });
});
