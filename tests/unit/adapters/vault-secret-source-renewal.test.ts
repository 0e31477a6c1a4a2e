import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import { VaultSecretSource } from '../../../agent-image/src/adapters/vault/vault-secret-source.ts';

const clientId = parseClientId('renewal');
const LEASE_SECONDS = 30;

/** A Vault stand-in (loopback, plain HTTP) whose renew-self answers with the statuses given, in order. */
async function fakeVault(renewStatuses: number[]) {
  const renewals: number[] = [];
  const reply = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      switch (req.url) {
        case '/v1/sys/wrapping/lookup':
          return reply(res, 200, { data: { creation_path: `auth/token/create/fleet-${clientId}` } });
        case '/v1/sys/wrapping/unwrap':
          return reply(res, 200, { auth: { client_token: 'hvs.agent-token', lease_duration: LEASE_SECONDS } });
        case `/v1/transit/datakey/plaintext/fleet-${clientId}`:
          return reply(res, 200, {
            data: { plaintext: randomBytes(32).toString('base64'), ciphertext: 'vault:v1:AAAA' },
          });
        case '/v1/auth/token/renew-self': {
          const status = renewStatuses[renewals.length] ?? 200;
          renewals.push(status);
          return status === 200
            ? reply(res, 200, { auth: { lease_duration: LEASE_SECONDS } })
            : reply(res, status, { errors: ['Vault is sealed'] });
        }
        default:
          return reply(res, 404, { errors: [] });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    renewals,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Waits (real time, at most 2 s: setTimeout and Date are mocked) until the fake Vault saw what is wanted. */
/** A logger that keeps the warnings' messages. */
function warningsLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => warnings.push(message),
    error: () => undefined,
    child: () => logger,
  };
  return { logger, warnings };
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 2_000;
  while (!condition() && performance.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), 'condition not reached');
}

void test('a renewal refused while Vault is sealed (503) is tried again before the token runs out', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  const vault = await fakeVault([503, 503]);
  const dir = await mkdtemp(join(tmpdir(), 'vault-renewal-'));
  const { logger, warnings } = warningsLogger();
  const source = new VaultSecretSource({
    clientId,
    vaultAddr: vault.url,
    wrappedKeyFile: join(dir, 'data-key.wrapped'),
    logger,
    wrappingToken: 'hvs.wrapping-token',
  });
  t.after(async () => {
    await source.stop();
    await vault.close();
    await rm(dir, { recursive: true, force: true });
  });
  await source.start();

  mock.timers.tick((LEASE_SECONDS * 1000) / 3);
  await until(() => warnings.length === 1);
  // 20 s of the lease are left: the next attempt comes after a third of that, not never.
  mock.timers.tick(7_000);
  await until(() => warnings.length === 2);
  mock.timers.tick(5_000);
  await until(() => vault.renewals.length === 3);
  assert.deepEqual(vault.renewals, [503, 503, 200]);
  assert.deepEqual(warnings, ['token renewal failed', 'token renewal failed']);
  assert.equal(source.revoked, false);
});
