import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { recordSend } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { recipientsInWindows } from '../../../agent-image/src/domain/policy/rate-window.ts';
import { answering, config, NOW, send, state } from './fixtures.ts';

const HOUR = 3_600_000;

describe('the gate on input and history it was never meant to see', () => {
  it('denies, never throws, when reading the input throws (an accessor or a proxy)', () => {
    const inputs: unknown[] = [
      { get kind(): string { throw new Error('boom'); } },
      { ...send(), get to(): string[] { throw new Error('boom'); } },
      new Proxy({}, { get: () => { throw new Error('boom'); }, ownKeys: () => { throw new Error('boom'); } }),
    ];
    for (const input of inputs) {
      const parsed = parseProposedAction(input);
      assert.equal(parsed.ok, false);
      const decision = evaluatePolicy(input, config(), state(), NOW);
      assert.equal(decision.decision, 'deny');
      assert.deepEqual(decision.reasons, ['unparseable']);
    }
  });

  it('keeps counting recent sends after the clock went back a day and came right again', () => {
    const limited = config({ rateLimits: { perHour: 3, perDay: 100 } });
    // Three recipients now, then one send while the clock was 25 hours behind.
    let st = recordSend(state(), new Date(NOW.getTime() - 5 * 60_000), ['a@p.com', 'b@p.com', 'c@p.com']);
    st = recordSend(st, new Date(NOW.getTime() - 25 * HOUR), ['bob@partner.com']);
    assert.deepEqual(st.sendHistory.map((record) => record.at), [...st.sendHistory.map((record) => record.at)].sort((a, b) => a - b));
    assert.equal(recipientsInWindows(st.sendHistory, NOW.getTime()).lastHour, 3);
    assert.deepEqual(evaluatePolicy(send(), limited, st, NOW, answering('bob@partner.com')).reasons, ['rate_limit_hour']);
  });
});
