// What the sender writes (From display name, subject) reaches an automatic reply in the client's name only
// as a greeting word or a quoted subject: never as a phrase of the sender's choosing, never as a link.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTemplateReply } from '../../../agent-image/src/domain/auto-reply/render-reply.ts';
import { correspondentNameCandidates, normaliseOriginalSubject } from '../../../agent-image/src/domain/auto-reply/slot-validators.ts';
import { linkIn } from '../../../agent-image/src/domain/policy/link-host.ts';
import { slotContext, templates } from './slot-text-bed.ts';

const CONTEXT = slotContext({ nameSources: [null, null] });
const greet = (correspondentName: string) => ({ type: 'acknowledgement', templateId: 'acknowledgement', slots: { correspondentName } });

describe('a display name greets by its first word only', () => {
  it('a phrase in the display name never reaches the greeting whole', () => {
    for (const display of ['Wire Money Today', 'Payment Approved', 'Reply With Password', 'Call Me Now', 'Send Gift Cards']) {
      const result = renderTemplateReply(greet(display), templates, { ...CONTEXT, nameSources: [null, display] });
      assert.equal(result.ok, false, display);
      const first = display.split(' ')[0] ?? '';
      assert.deepEqual(correspondentNameCandidates([null, display]), [first], display);
    }
  });

  it('a name made of hyphenated words is no first word', () => {
    assert.deepEqual(correspondentNameCandidates([null, 'Wire-The-Money today']), []);
    assert.deepEqual(correspondentNameCandidates([null, 'Jean-Pierre Dupont']), ['Jean-Pierre']);
    assert.deepEqual(correspondentNameCandidates([null, "D'Andre Smith"]), ["D'Andre"]);
  });

  it('the client’s own contact record still greets in full', () => {
    const result = renderTemplateReply(greet('Dana Scully'), templates, { ...CONTEXT, nameSources: ['Dana Scully', 'Wire Money Today'] });
    assert.equal(result.ok, true);
    assert.match(result.ok ? result.reply.body : '', /^Hello Dana Scully,/);
    assert.deepEqual(correspondentNameCandidates(['Dana Scully', 'Dana Scully']), ['Dana Scully', 'Dana']);
  });
});

describe('a long subject cut to length', () => {
  it('is refused when the cut ends it on a host', () => {
    const head = 'Question about the invoice for last month ok';
    const host = 'pay-here.co';
    const word = `${'x'.repeat(20)}.${'x'.repeat(99 - head.length - 1 - host.length - 21)}${host}`;
    const subject = `${head} ${word}mpanyzz`;
    assert.equal(linkIn(subject), undefined);
    assert.deepEqual(normaliseOriginalSubject(subject), { ok: false, issue: 'originalSubject holds a link' });
  });

  it('is still quoted, cut at a word, when no link appears', () => {
    const subject = `${'word '.repeat(30)}end`;
    const result = normaliseOriginalSubject(subject);
    assert.equal(result.ok, true);
    assert.ok(result.ok && result.value.endsWith('…') && [...result.value].length <= 100);
  });
});
