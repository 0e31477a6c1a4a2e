// The agent read the other files placed for it whole and without a check: its wrapped data key, the TLS
// identity Vault Agent renders (tls.crt, tls.key, ca.crt), the sealed config, the plain config
// (AGENT_CONFIG_PATH) and VAULT_CACERT. A FIFO among them hung the start, /dev/zero (or a link to it) filled
// the memory, and an empty wrapped-key file was taken as a ciphertext. Each is now a regular file (links
// followed) within its bound, refused by a message that names it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AGENT_SEALED_CONFIG_FILE } from '@agent-fleet/kernel/sealed-agent-config';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { redeemTlsHandover } from '../../../agent-image/src/adapters/vault/agent-tls-bundle.ts';
import { readTlsDirectory } from '../../../agent-image/src/adapters/vault/agent-tls-directory.ts';
import { readVaultCaFile } from '../../../agent-image/src/adapters/vault/vault-ca-file.ts';
import { readWrappedKey } from '../../../agent-image/src/adapters/vault/wrapped-key-file.ts';
import { readPlainConfig, readSealedConfig } from '../../../agent-image/src/startup/sealed-config-file.ts';
import { refused } from '../../helpers/refused.ts';

const certificateText = () => ['-----BEGIN', 'CERTIFICATE-----\nAAAA\n-----END', 'CERTIFICATE-----\n'].join(' ');

describe('files placed for the agent', () => {
  let dir: string;
  let fifo: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'placed-file-agent-'));
    fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await symlink('/dev/zero', path.join(dir, 'zero-link'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the wrapped data key: a FIFO or /dev/zero is refused at once, a missing file is none yet', { timeout: 10_000 }, async () => {
    await refused(readWrappedKey(fifo), 'invalid_input', new RegExp(`the wrapped data key ${fifo} is not a regular file`));
    await refused(readWrappedKey(path.join(dir, 'zero-link')), 'invalid_input', /is not a regular file/);
    assert.equal(await readWrappedKey(path.join(dir, 'no-key-yet')), null);
    await writeFile(path.join(dir, 'key'), 'vault:v1:AAAA\n');
    assert.equal(await readWrappedKey(path.join(dir, 'key')), 'vault:v1:AAAA');
  });

  test('an empty or oversized wrapped-key file is refused, never taken for a ciphertext or for none', async () => {
    await writeFile(path.join(dir, 'empty-key'), '\n');
    await refused(readWrappedKey(path.join(dir, 'empty-key')), 'integrity', /holds no ciphertext/);
    await writeFile(path.join(dir, 'big-key'), 'v'.repeat(64 * 1024));
    await refused(readWrappedKey(path.join(dir, 'big-key')), 'invalid_input', /is larger than/);
  });

  test('the TLS directory: a FIFO or a link to /dev/zero is refused naming the file; a missing one says incomplete', { timeout: 10_000 }, async () => {
    const tls = path.join(dir, 'tls');
    await mkdir(tls);
    await writeFile(path.join(tls, 'tls.crt'), certificateText());
    await writeFile(path.join(tls, 'ca.crt'), certificateText());
    await symlink(fifo, path.join(tls, 'tls.key'));
    await refused(readTlsDirectory(tls), 'invalid_input', new RegExp(`${path.join(tls, 'tls.key')} is not a regular file`));
    await rm(path.join(tls, 'tls.key'));
    await refused(readTlsDirectory(tls), 'unavailable', /is incomplete .*tls\.key is missing/);
    await symlink('/dev/zero', path.join(tls, 'tls.key'));
    await refused(readTlsDirectory(tls), 'invalid_input', /tls\.key is not a regular file/);
    await rm(path.join(tls, 'tls.key'));
    await writeFile(path.join(tls, 'tls.key'), 'k'.repeat(64 * 1024 + 1));
    await refused(readTlsDirectory(tls), 'invalid_input', /tls\.key is larger than/);
  });

  test('the sealed config: a FIFO is refused at once, none placed is null', { timeout: 10_000 }, async () => {
    const data = path.join(dir, 'data');
    await mkdir(data);
    assert.equal(await readSealedConfig(data), null);
    await symlink(fifo, path.join(data, AGENT_SEALED_CONFIG_FILE));
    await refused(readSealedConfig(data), 'invalid_input', /the sealed client config .* is not a regular file/);
  });

  test('the plain config (AGENT_CONFIG_PATH): /dev/zero, a FIFO or an oversized file is refused naming the setting', { timeout: 10_000 }, async () => {
    await refused(readPlainConfig(path.join(dir, 'zero-link')), 'invalid_input', /\(AGENT_CONFIG_PATH\) is not a regular file/);
    await refused(readPlainConfig(fifo), 'invalid_input', /\(AGENT_CONFIG_PATH\) is not a regular file/);
    await writeFile(path.join(dir, 'big.yaml'), `# ${'c'.repeat(1024 * 1024)}\n`);
    await refused(readPlainConfig(path.join(dir, 'big.yaml')), 'invalid_input', /\(AGENT_CONFIG_PATH\) is larger than/);
  });

  test("VAULT_CACERT: a FIFO is refused at once, a file without a certificate by name", { timeout: 10_000 }, async () => {
    await refused(readVaultCaFile(fifo), 'invalid_input', /\(VAULT_CACERT\) is not a regular file/);
    await writeFile(path.join(dir, 'no-cert.pem'), 'nothing here\n');
    await refused(readVaultCaFile(path.join(dir, 'no-cert.pem')), 'invalid_input', /\(VAULT_CACERT\) holds no PEM certificate/);
    await writeFile(path.join(dir, 'ca.pem'), certificateText());
    assert.equal(await readVaultCaFile(path.join(dir, 'ca.pem')), certificateText());
  });

  test('the TLS handover is still waited for while it is not placed', { timeout: 20_000 }, async () => {
    const file = path.join(dir, 'tls.wrap');
    const redeeming = redeemTlsHandover({
      clientId: parseClientId('acme'),
      file,
      // Nothing listens there: the lookup fails, after the file was found and read.
      vaultAddr: 'http://127.0.0.1:1',
      logger: async () => createSilentLogger(),
      waitMs: 15_000,
    });
    await writeFile(file, 'placed-later-wrapping-token\n');
    await refused(redeeming, 'unavailable', /look up the TLS handover/);
  });
});
