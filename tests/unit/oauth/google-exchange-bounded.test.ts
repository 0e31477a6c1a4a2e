import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { GoogleOAuthConsent } from '../../../orchestrator/src/adapters/oauth/google-oauth-consent.ts';
import { createCodeVerifier } from '../../../orchestrator/src/adapters/oauth/pkce.ts';

// A token endpoint that accepts the request and never answers.
const silent = http.createServer(() => undefined);
let tokenUrl = '';

before(async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  tokenUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/token`;
});
after(() => {
  silent.closeAllConnections();
  silent.close();
});

test('a Google token endpoint that never answers fails the exchange as retryable unavailable within the bound', async () => {
  const consent = new GoogleOAuthConsent({
    clientId: 'cid.apps',
    clientSecret: createCodeVerifier(),
    tokenUrl,
    requestTimeoutMs: 300,
  });
  const started = Date.now();
  const exchange = consent.exchangeCode({
    code: 'c0de',
    codeVerifier: createCodeVerifier(),
    redirectUri: 'http://127.0.0.1:9/oauth/callback',
  });
  const watchdog = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 3_000).unref());
  const outcome = await Promise.race([
    exchange.then(
      () => 'exchanged',
      (error: unknown) => error,
    ),
    watchdog,
  ]);
  assert.notEqual(outcome, 'hung', 'the exchange is bounded');
  assert.ok(isFleetError(outcome), `expected a FleetError, got ${String(outcome)}`);
  assert.equal(outcome.code, 'unavailable');
  assert.equal(outcome.retryable, true);
  assert.ok(Date.now() - started < 3_000);
});
