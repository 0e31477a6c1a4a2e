// The review queue through the agent's control API: messages parked for a human (malformed model
// output, low confidence) are listed with their reason, since when, sender and subject line, never their
// body, and stay listed across a restart. Needs the control token like every other non-health route.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agentBed } from '../../helpers/agent-bed.ts';
import { KNOWN, clientConfig, inboxScript, uniqueClient } from './agent-harness.ts';

describe('the review queue on the control API', () => {
  const bed = agentBed({ mailbox: 'gmail' });

  test('lists parked messages with reason and age only, behind the control token, across a restart', async () => {
    const agent = await bed.startAgent({ config: clientConfig(uniqueClient(), bed.mailbox.mailbox, 'gmail') });
    assert.equal(await agent.introduce(), 204);
    await agent.runtime.tick();
    const malformed = await bed.mailbox.seed({ from: KNOWN, subject: 'MALFORMED please', text: 'The model will not know what this is.' });
    const unsure = await bed.mailbox.seed({ from: KNOWN, subject: 'Hmm', text: 'Something the model is unsure about.' });
    const routine = await bed.mailbox.seed({ from: KNOWN, subject: 'Invoice 3', text: 'We received the invoice, thanks.' });
    bed.anthropic.useScript((request) => {
      if (request.tool_choice?.name === 'classify_email' && JSON.stringify(request.messages).includes('unsure about')) {
        return { toolInput: { type: 'question', confidence: 0.2, reasons: ['unclear'] } };
      }
      return inboxScript(request);
    });
    try {
      await agent.runtime.tick();
    } finally {
      bed.anthropic.useScript(inboxScript);
    }
    const listed = await agent.call('GET', '/v1/review');
    assert.equal(listed.status, 200);
    const { review } = listed.json as { review: { messageId: string; reason: string; since: string; retriedFrom: string | null; sender: string | null; subject: string | null }[] };
    assert.deepEqual(
      review.map((entry) => [entry.messageId, entry.reason]).sort(),
      [
        [malformed, 'malformed_model_output'],
        [unsure, 'low_confidence'],
      ].sort(),
    );
    for (const entry of review) {
      // Sender and subject line are for the client's own portal (as an approval's page shows them); no body.
      assert.deepEqual(Object.keys(entry).sort(), ['messageId', 'reason', 'retriedFrom', 'sender', 'since', 'subject']);
      assert.ok(Date.parse(entry.since) <= agent.clock.now.getTime());
      assert.equal(entry.retriedFrom, null);
    }
    assert.deepEqual(
      review.map((entry) => [entry.messageId, entry.subject]).sort(),
      [
        [malformed, 'MALFORMED please'],
        [unsure, 'Hmm'],
      ].sort(),
      'each with the subject it was read with, so the admin can find it',
    );
    assert.ok(!review.some((entry) => entry.messageId === routine), 'an answered message is not in review');
    assert.equal(listed.text.includes('Something the model is unsure about'), false, 'no content');
    assert.equal((await agent.call('GET', '/v1/review', undefined, null)).status, 401);

    const restarted = bed.track(await agent.restart());
    assert.equal(await restarted.introduce(), 204);
    const again = (await restarted.call('GET', '/v1/review')).json as { review: unknown[] };
    assert.deepEqual(again.review, review);

    // A person resolves them: one dealt with in the mailbox, one given back to the agent, which parks it again.
    const resolve = (messageId: string, resolution: string) => restarted.call('POST', '/v1/review/resolve', { messageId, resolution, by: 'dana@acme.example' });
    assert.equal((await resolve(unsure, 'handled')).status, 200);
    assert.equal((await resolve(malformed, 'retry')).status, 200);
    await restarted.runtime.tick();
    const after = ((await restarted.call('GET', '/v1/review')).json as { review: { messageId: string; reason: string; retriedFrom: string | null }[] }).review;
    assert.deepEqual(
      after.map((entry) => [entry.messageId, entry.reason, entry.retriedFrom]),
      [[malformed, 'malformed_model_output', 'malformed_model_output']],
      'the handled one left; the retried one was processed again and parked again, its retry used',
    );
    assert.equal((await resolve(malformed, 'retry')).status, 409, 'one retry only');
    assert.equal((await resolve('no-such-message', 'handled')).status, 404);
    const resolved = (await restarted.auditRecords()).filter((record) => record.action_type === 'review_resolved');
    assert.deepEqual(resolved.map((record) => [record.target, record.parameters['resolution']]), [
      [unsure, 'handled'],
      [malformed, 'retry'],
    ]);
  });
});
