import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bundleDecision } from '../../../agent-image/src/domain/policy/bundle-decision.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { recordSend } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { answering, approvedFor, config, NOW, send, state } from './fixtures.ts';

const KNOWN = ['bob@partner.com', 'carol@partner.com', 'dave@client.org'];
const event = (participants: string[]) => ({ kind: 'calendar.write', operation: 'create', title: 'Call', start: '2025-06-02T16:00:00Z', participants });
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

describe('actions that run together are held to the send limits together', () => {
  it('denies (retryable, pausing sending) an email and its event that fit the hour one by one but not together', () => {
    const limited = config({ rateLimits: { perHour: 5, perDay: 100 } });
    // Three recipients this hour: room for two more.
    const used = recordSend(state(), minutesAgo(10), ['x1@partner.com', 'x2@partner.com', 'x3@partner.com']);
    const email = evaluatePolicy(send({ to: ['bob@partner.com'] }), limited, used, NOW, answering('bob@partner.com'));
    const invite = evaluatePolicy(event(['bob@partner.com', 'carol@partner.com']), limited, used, NOW);
    assert.equal(email.decision, 'allow');
    assert.equal(invite.decision, 'allow');
    const together = bundleDecision(email, [invite]);
    assert.equal(together.decision, 'deny');
    assert.deepEqual(together.reasons, ['rate_limit_hour']);
    assert.equal(together.retryable, true);
    assert.equal(together.pauseSending, true);
  });

  it('counts the daily window the same way', () => {
    const limited = config({ rateLimits: { perHour: 50, perDay: 50 } });
    const used = recordSend(state(), minutesAgo(300), Array.from({ length: 48 }, (_, index) => `p${index}@partner.com`));
    const together = bundleDecision(evaluatePolicy(send(), limited, used, NOW, answering('bob@partner.com')), [evaluatePolicy(event(['carol@partner.com', 'dave@client.org']), limited, used, NOW)]);
    assert.deepEqual(together.reasons, ['rate_limit_day']);
  });

  it('lets a bundle through whose recipients fit together, and never allows one that does not fit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), (perHour, used, toCount, inviteCount) => {
        fc.pre(used <= perHour);
        const limited = config({ rateLimits: { perHour, perDay: 100 }, bulkThreshold: 10 });
        const history = used === 0 ? state() : recordSend(state(), minutesAgo(5), Array.from({ length: used }, (_, index) => `u${index}@partner.com`));
        // An email to several people runs only under an approval (a reply auto-sends to its sender alone).
        const proposed = send({ to: KNOWN.slice(0, toCount) });
        const email = evaluatePolicy(proposed, limited, history, NOW, approvedFor(proposed));
        const invite = evaluatePolicy(event(KNOWN.slice(0, inviteCount)), limited, history, NOW);
        const decision = bundleDecision(email, [invite]).decision;
        // An invitation to no one reaches no one: it counts nothing (and is not outbound).
        const reached = toCount + inviteCount;
        assert.equal(decision === 'allow', used + reached <= perHour, `${used} used + ${reached} of ${perHour}: ${decision}`);
      }),
    );
  });
});
