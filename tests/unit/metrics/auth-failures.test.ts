// fleet_api_auth_failures_total: both surfaces start at 0; the ops API counts a refused bearer token but not
// a signed-in member or a refusal that is not about who the caller is; the portal counts a wrong code, a
// failed passkey assertion and a bad enrolment link, never a success.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { Registry } from 'prom-client';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { authenticateOps } from '../../../orchestrator/src/http/admin-auth.ts';
import { errorMiddleware } from '../../../orchestrator/src/http/error-middleware.ts';
import { createAuthFailureMetrics, type AuthSurface } from '../../../orchestrator/src/observability/metrics.ts';
import type { ClientGateway } from '../../../orchestrator/src/portal/client-gateway.ts';
import { Enrolment } from '../../../orchestrator/src/portal/identity/enrolment.ts';
import { Passkeys } from '../../../orchestrator/src/portal/identity/passkeys.ts';
import { TotpFactor } from '../../../orchestrator/src/portal/identity/totp.ts';
import { MINUTE, RP, startIdentityFixture, type IdentityFixture } from '../portal/identity-fixture.ts';

async function failures(registry: Registry): Promise<Record<AuthSurface, number>> {
  const values = (await registry.getSingleMetric('fleet_api_auth_failures_total')?.get())?.values ?? [];
  const of = (surface: AuthSurface) => values.find((value) => value.labels['surface'] === surface)?.value;
  return { api: of('api') ?? Number.NaN, portal: of('portal') ?? Number.NaN };
}

test('both surfaces are exported at 0 from the start', async () => {
  const registry = new Registry();
  createAuthFailureMetrics(registry);
  assert.deepEqual(await failures(registry), { api: 0, portal: 0 });
});

describe('the ops API', () => {
  const registry = new Registry();
  const counters = createAuthFailureMetrics(registry);
  const session = `fs1.${randomBytes(16).toString('hex')}`;
  let http: Server;
  let base = '';

  before(async () => {
    const app = express();
    app.use(
      express.json(),
      authenticateOps({
        transport: 'tcp',
        sessions: {
          authenticate: async (token) =>
            token === session
              ? { member: 'alice', sessionExpiresAt: '2099-01-01T00:00:00.000Z', secondFactorAt: '2026-01-01T00:00:00.000Z', freshSecondFactor: false }
              : null,
        },
        hasActiveGrant: async () => false,
        teamIsEmpty: async () => false,
        onRefused: counters.api,
      }),
    );
    app.all('/{*rest}', (_request, response) => {
      response.json({ ok: true });
    });
    app.use(errorMiddleware(createSilentLogger()));
    http = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(() => http.close());

  const get = (path: string, token?: string) =>
    fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  test('a signed-in member is not counted', async () => {
    assert.equal((await get('/clients', session)).status, 200);
    assert.deepEqual(await failures(registry), { api: 0, portal: 0 });
  });

  test('a wrong token, an ended session and no token are each counted once', async () => {
    assert.equal((await get('/clients', randomBytes(20).toString('hex'))).status, 401);
    assert.equal((await get('/clients', `fs1.${randomBytes(16).toString('hex')}`)).status, 401);
    assert.equal((await get('/clients')).status, 401);
    assert.deepEqual(await failures(registry), { api: 3, portal: 0 });
  });

  test('a member refused for want of a fresh code is not a refused authentication', async () => {
    const before = await failures(registry);
    assert.equal((await get('/clients/acme/export', session)).status, 403);
    assert.deepEqual(await failures(registry), before);
  });
});

describe('the portal', () => {
  const registry = new Registry();
  const counters = createAuthFailureMetrics(registry);
  const admin = { clientId: 'acme', email: 'ops@acme.test' };
  let f: IdentityFixture;
  let totp: TotpFactor;
  let enrolment: Enrolment;
  let passkeys: Passkeys;
  let secret = '';

  before(async () => {
    f = await startIdentityFixture();
    f.admins.set(admin.clientId, [admin.email]);
    const clock = { now: () => f.now() };
    const sealingKey = randomBytes(32);
    const gateway = { admins: async (clientId: string) => f.admins.get(clientId) ?? [] } as unknown as ClientGateway;
    const onRefused = counters.portal;
    totp = new TotpFactor({ store: f.store, clock, sealingKey, lockout: { maxFailures: 5, windowMs: 15 * MINUTE }, onRefused });
    enrolment = new Enrolment({ store: f.store, gateway, clock, ttlMs: 24 * 60 * MINUTE, onRefused });
    passkeys = new Passkeys({ store: f.store, clock, sealingKey, relyingParty: () => RP, onRefused });
  });
  after(() => f.close());

  test('an enrolment, its first code and a code sign-in that succeed are not counted', async () => {
    const { token } = await enrolment.issue(admin.clientId, admin.email);
    const used = await enrolment.consume(token);
    assert.ok(used);
    const pending = await totp.pendingSetup(admin, used.enrolmentHash, 'test', true);
    assert.ok(pending);
    secret = pending.secret;
    assert.equal(await totp.confirm(admin, used.enrolmentHash, await f.code(pending.secret)), true);
    assert.equal(await enrolment.finish(admin, used.enrolmentHash), true);
    f.advance(MINUTE);
    assert.equal((await totp.signIn(admin.email, await f.code(pending.secret))).ok, true);
    assert.deepEqual(await failures(registry), { api: 0, portal: 0 });
  });

  test('a wrong code, a used or unknown link, a bad first code and a failed passkey are each counted', async () => {
    f.advance(MINUTE);
    const wrongCode = async () => String((Number(await f.code(secret)) + 1) % 1_000_000).padStart(6, '0');
    assert.equal((await totp.signIn(admin.email, await wrongCode())).ok, false);
    assert.equal(await enrolment.consume(randomBytes(32).toString('base64url')), null);
    const { token } = await enrolment.issue(admin.clientId, admin.email);
    const used = await enrolment.consume(token);
    assert.ok(used);
    assert.equal(await enrolment.consume(token), null);
    assert.equal(await totp.confirm(admin, used.enrolmentHash, '000000'), false);
    const anonymous = await f.sessions.start('anonymous', null);
    await passkeys.authenticationOptions(anonymous);
    assert.equal(await passkeys.authenticate(anonymous, { id: 'unknown', rawId: 'unknown', type: 'public-key', response: { clientDataJSON: '', authenticatorData: '', signature: '' }, clientExtensionResults: {} }), null);
    assert.deepEqual(await failures(registry), { api: 0, portal: 5 });
  });
});
