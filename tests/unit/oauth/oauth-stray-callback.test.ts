import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listenForRedirect } from '../../../orchestrator/src/adapters/oauth/loopback-redirect-listener.ts';
import { createState } from '../../../orchestrator/src/adapters/oauth/pkce.ts';
import { interpretRedirect } from '../../../orchestrator/src/adapters/oauth/redirect-callback.ts';

describe('stray callbacks to the loopback redirect listener', () => {
  test('callbacks without our state are answered 400 and the real redirect is still accepted, once', async () => {
    const listener = await listenForRedirect();
    const state = createState();
    try {
      const outcome = listener.waitForRedirect(state, 10_000);
      let settled = false;
      void outcome.then(() => (settled = true), () => (settled = true));
      const forged = [
        `code=planted&state=${createState()}`,
        'code=planted',
        `error=access_denied&state=${createState()}`,
        `code=planted&state=${state}&state=${createState()}`,
        `state=${createState()}&padding=${'x'.repeat(5000)}`,
        `code=a&code=b`,
      ];
      for (const query of forged) {
        const page = await fetch(`${listener.redirectUri}?${query}`);
        assert.equal(page.status, 400, query.slice(0, 80));
        await page.text();
      }
      assert.equal(settled, false, 'a stray callback does not end the flow');
      const real = await fetch(`${listener.redirectUri}?code=c0de&state=${state}`);
      assert.equal(real.status, 200);
      assert.deepEqual(await outcome, { kind: 'code', code: 'c0de' });
      const replay = await fetch(`${listener.redirectUri}?code=c0de&state=${state}`).then(
        (response) => response.status,
        () => 'closed',
      );
      assert.notEqual(replay, 200, 'the code is taken once');
    } finally {
      await listener.close();
    }
  });

  test('an oversized or repeated parameter without our state is a state mismatch, not a malformed redirect', () => {
    const state = createState();
    assert.deepEqual(interpretRedirect(new URLSearchParams({ code: 'x'.repeat(5000), state: 'other' }), state), { kind: 'state-mismatch' });
    assert.deepEqual(interpretRedirect(new URLSearchParams(`state=${state}&state=${state}&code=c`), state), { kind: 'state-mismatch' });
    assert.equal(interpretRedirect(new URLSearchParams({ code: 'x'.repeat(5000), state }), state).kind, 'malformed');
  });
});
