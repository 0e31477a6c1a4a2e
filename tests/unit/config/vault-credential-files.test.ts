// The files an external Vault is reached with (VAULT_TOKEN_FILE, VAULT_CACERT) were read whole without a
// bound or a check: /dev/zero (or a link to it) filled the memory, a FIFO hung the start, and an empty token
// file gave an empty token that failed only at the first Vault call, with a 403 naming no setting. They are
// now bounded, regular files only, and an empty or malformed one is refused naming the setting.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { adminVaultClient } from '../../../orchestrator/src/adapters/vault/admin-vault-client.ts';
import { externalVaultCaPem } from '../../../orchestrator/src/adapters/vault/open-secret-backend.ts';
import type { OrchestratorConfig } from '../../../orchestrator/src/config.ts';
import { refused } from '../../helpers/refused.ts';

const fakeToken = () => `hvs.${randomBytes(24).toString('base64url')}`;

function externalVault(tokenFile: string, caCertFile?: string): Pick<OrchestratorConfig, 'vault'> {
  return {
    vault: {
      kind: 'external',
      address: 'https://127.0.0.1:1',
      tokenFile,
      agentAddress: 'https://127.0.0.1:1',
      ...(caCertFile === undefined ? {} : { caCertFile }),
    },
  };
}

const clientFor = (tokenFile: string) => adminVaultClient(externalVault(tokenFile), { embedded: null });

describe('Vault credential files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-vault-files-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a token file through a link (a Kubernetes Secret mount) gives the token, white space trimmed', async () => {
    const token = fakeToken();
    await mkdir(path.join(dir, '..data'));
    await writeFile(path.join(dir, '..data', 'token'), `  ${token}\n`);
    await symlink(path.join('..data', 'token'), path.join(dir, 'linked-token'));
    const client = await clientFor(path.join(dir, 'linked-token'));
    assert.equal(client.token, token);
  });

  test('an empty or blank token file is refused naming VAULT_TOKEN_FILE, not used as an empty token', async () => {
    for (const [name, text] of [['empty', ''], ['blank', ' \n\t\n']] as const) {
      const file = path.join(dir, `${name}-token`);
      await writeFile(file, text);
      await refused(clientFor(file), 'invalid_input', /VAULT_TOKEN_FILE\) is empty/);
    }
  });

  test('a token file holding more than one token, or control characters, is refused', async () => {
    for (const [name, text] of [['two', `${fakeToken()}\n${fakeToken()}\n`], ['control', `${fakeToken()}\u0007x`], ['words', 'my token']] as const) {
      const file = path.join(dir, `${name}-token`);
      await writeFile(file, text);
      await refused(clientFor(file), 'invalid_input', /VAULT_TOKEN_FILE\) does not hold one token/);
    }
  });

  test('a token file over 4 KiB is refused, read no further', async () => {
    const file = path.join(dir, 'large-token');
    await writeFile(file, 'a'.repeat(4097));
    await refused(clientFor(file), 'invalid_input', /VAULT_TOKEN_FILE\) is larger than 4096 bytes/);
  });

  test('a device (/dev/zero, directly or through a link) is refused as not a regular file', { timeout: 10_000 }, async () => {
    await symlink('/dev/zero', path.join(dir, 'zero-link'));
    for (const file of ['/dev/zero', path.join(dir, 'zero-link')]) {
      await refused(clientFor(file), 'invalid_input', /VAULT_TOKEN_FILE\) is not a regular file/);
      await refused(externalVaultCaPem(externalVault(path.join(dir, 'linked-token'), file)), 'invalid_input', /VAULT_CACERT\) is not a regular file/);
    }
  });

  test('a FIFO does not hang the start: it is refused at once', { timeout: 10_000 }, async () => {
    const fifo = path.join(dir, 'token-fifo');
    execFileSync('mkfifo', [fifo]);
    await refused(clientFor(fifo), 'invalid_input', /VAULT_TOKEN_FILE\) is not a regular file/);
  });

  test('a missing token file is unavailable, naming the setting', async () => {
    await assert.rejects(clientFor(path.join(dir, 'missing')), (error: unknown) => isFleetError(error) && error.code === 'unavailable' && /VAULT_TOKEN_FILE/.test(error.message));
  });

  test('a CA file holding no PEM certificate (empty, or a key) is refused naming VAULT_CACERT', async () => {
    // A key block made at run time (no key-looking literal in the repository): anything but a certificate.
    const keyBlock = (label: string) => `-----BEGIN ${label}-----\n${randomBytes(3).toString('base64')}\n-----END ${label}-----\n`;
    for (const [name, text] of [['empty', ''], ['key', keyBlock(['PRIVATE', 'KEY'].join(' '))]] as const) {
      const file = path.join(dir, `${name}-ca.pem`);
      await writeFile(file, text);
      await refused(externalVaultCaPem(externalVault(path.join(dir, 'linked-token'), file)), 'invalid_input', /VAULT_CACERT\) holds no PEM certificate/);
    }
  });

  test('a CA file over 1 MiB is refused, read no further', async () => {
    const file = path.join(dir, 'huge-ca.pem');
    await writeFile(file, `-----BEGIN CERTIFICATE-----\n${'A'.repeat(1024 * 1024)}\n`);
    await refused(externalVaultCaPem(externalVault(path.join(dir, 'linked-token'), file)), 'invalid_input', /VAULT_CACERT\) is larger than 1048576 bytes/);
  });

  test('a CA bundle is read as it is', async () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${randomBytes(300).toString('base64')}\n-----END CERTIFICATE-----\n`;
    const file = path.join(dir, 'ca.pem');
    await writeFile(file, pem);
    assert.equal(await externalVaultCaPem(externalVault(path.join(dir, 'linked-token'), file)), pem);
  });
});
