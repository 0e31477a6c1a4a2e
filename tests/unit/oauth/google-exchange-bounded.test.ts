import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { GoogleOAuthConsent, googleOAuthClientOptions } from '../../../orchestrator/src/adapters/oauth/google-oauth-consent.ts';
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

/** The reason the request's abort signal fired with, as gaxios keeps it on its error. */
function abortReason(error: unknown): unknown {
  const request = (error as { cause?: { config?: { signal?: AbortSignal } } }).cause;
  return request?.config?.signal?.reason;
}

test('every request of a Google consent flow is built with its bound, 30 s unless told', () => {
  const options = { clientId: 'cid.apps', clientSecret: createCodeVerifier() };
  assert.equal(googleOAuthClientOptions({ ...options, requestTimeoutMs: 300 }, 'http://127.0.0.1:9/oauth/callback').transporterOptions?.timeout, 300);
  assert.equal(googleOAuthClientOptions(options, 'http://127.0.0.1:9/oauth/callback').transporterOptions?.timeout, 30_000);
});

// The hang guard only keeps a broken bound from stalling the run; the assertions are on why the exchange ended.
test('a Google token endpoint that never answers fails the exchange as retryable unavailable, cut by its deadline', { timeout: 60_000 }, async () => {
  const consent = new GoogleOAuthConsent({
    clientId: 'cid.apps',
    clientSecret: createCodeVerifier(),
    tokenUrl,
    requestTimeoutMs: 300,
  });
  const outcome = await consent
    .exchangeCode({ code: 'c0de', codeVerifier: createCodeVerifier(), redirectUri: 'http://127.0.0.1:9/oauth/callback' })
    .then(
      () => 'exchanged',
      (error: unknown) => error,
    );
  assert.ok(isFleetError(outcome), `expected a FleetError, got ${String(outcome)}`);
  assert.equal(outcome.code, 'unavailable');
  assert.equal(outcome.retryable, true);
  const reason = abortReason(outcome);
  assert.ok(reason instanceof Error && reason.name === 'TimeoutError', `the request was aborted by its deadline, not ${String(reason)}`);
});
