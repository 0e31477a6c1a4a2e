// The agent's secret source redeems a wrapped introduction as a step of its own: the only credential of
// the open introduction routes, so it reads nothing else, and what it answers an unauthenticated caller
// carries neither Vault's words nor the network's (which name Vault's address).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { VaultSecretSource } from '../../../agent-image/src/adapters/vault/vault-secret-source.ts';

const clientId = parseClientId('redeemer');
const VAULT_WORDS = 'wrapping token is not valid or does not exist';

/** A Vault stand-in (loopback, plain HTTP) that records the paths asked; `spent` wraps are refused with 400. */
async function fakeVault(t: TestContext) {
  const asked: string[] = [];
  const reply = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      asked.push(String(req.url));
      const body = Buffer.concat(chunks).toString('utf8');
      switch (req.url) {
        case '/v1/sys/wrapping/lookup':
          if (body.includes('spent')) return reply(res, 400, { errors: [VAULT_WORDS] });
          return reply(res, 200, { data: { creation_path: `auth/token/create/fleet-${clientId}` } });
        case '/v1/sys/wrapping/unwrap':
          return reply(res, 200, { auth: { client_token: randomBytes(12).toString('hex'), lease_duration: 3600 } });
        case `/v1/transit/datakey/plaintext/fleet-${clientId}`:
          return reply(res, 200, { data: { plaintext: randomBytes(32).toString('base64'), ciphertext: 'vault:v1:AAAA' } });
        default:
          return reply(res, 200, {});
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

async function keyDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vault-redeem-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function sourceFor(t: TestContext, vaultAddr: string, wrappingToken: string, wrappedKeyFile: string): VaultSecretSource {
  const source = new VaultSecretSource({ clientId, vaultAddr, wrappingToken, wrappedKeyFile, logger: createSilentLogger(), timeoutMs: 5_000 });
  t.after(() => source.stop());
  return source;
}

/** An address where nothing listens (a port just let go). */
async function deadAddress(): Promise<{ url: string; port: string }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = String((server.address() as AddressInfo).port);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${port}`, port };
}

describe('redeeming a wrapped introduction', () => {
  test('asks Vault only for the lookup and the unwrap and reads no data key; start then completes it without a second unwrap', async (t) => {
    const vault = await fakeVault(t);
    const wrappedKeyFile = join(await keyDir(t), 'data-key.wrapped');
    const source = sourceFor(t, vault.url, 'genuine', wrappedKeyFile);
    await source.redeem();
    assert.deepEqual(vault.asked, ['/v1/sys/wrapping/lookup', '/v1/sys/wrapping/unwrap']);
    await assert.rejects(access(wrappedKeyFile), 'no data key was made by the redemption');
    await source.start();
    assert.deepEqual(vault.asked, ['/v1/sys/wrapping/lookup', '/v1/sys/wrapping/unwrap', `/v1/transit/datakey/plaintext/fleet-${clientId}`]);
    assert.equal(source.dataKey().length, 32);
    await assert.rejects(source.start(), (error: unknown) => isFleetError(error) && error.code === 'conflict');
  });

  test('a wrap Vault refuses keeps Vault’s code but not its words', async (t) => {
    const vault = await fakeVault(t);
    const source = sourceFor(t, vault.url, 'spent', join(await keyDir(t), 'data-key.wrapped'));
    await assert.rejects(source.start(), (error: unknown) => {
      assert.ok(isFleetError(error));
      assert.equal(error.code, 'invalid_input');
      assert.ok(!error.message.includes(VAULT_WORDS), error.message);
      return true;
    });
  });

  test('a Vault out of reach is a retryable unavailable that does not name its address', async (t) => {
    const dead = await deadAddress();
    const source = sourceFor(t, dead.url, 'genuine', join(await keyDir(t), 'data-key.wrapped'));
    await assert.rejects(source.start(), (error: unknown) => {
      assert.ok(isFleetError(error));
      assert.equal(error.code, 'unavailable');
      assert.equal(error.retryable, true);
      assert.ok(!error.message.includes(dead.port), error.message);
      return true;
    });
  });
});
