// Every reason the gate can give reads as plain words in the portal and the approval mail, never as a code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gateReasonText } from '@agent-fleet/kernel/gate-reason-text';
import type { ReasonCode } from '../../../agent-image/src/domain/policy/decision.ts';

// A Record over the union: the compiler fails this file when the gate gains a code not listed here.
const EVERY_CODE: Record<ReasonCode, true> = {
  unparseable: true,
  killed: true,
  permission_denied: true,
  dry_run: true,
  paused: true,
  rate_limit_hour: true,
  rate_limit_day: true,
  blocked_recipient: true,
  onboarding: true,
  new_contact: true,
  type_requires_approval: true,
  type_not_auto_send: true,
  unclassified: true,
  free_text: true,
  sender_unauthenticated: true,
  recipient_not_sender: true,
  injection_signal: true,
  auto_reply_loop: true,
  bulk: true,
  url_shortener: true,
  public_share: true,
  deletion: true,
  move: true,
  held_by_kill_switch: true,
  read: true,
  permitted: true,
  auto_send: true,
  approved: true,
};

describe('the gate’s reasons in plain words', () => {
  test('every reason code has a sentence of its own, with no code left in it', () => {
    const texts = new Set<string>();
    for (const code of Object.keys(EVERY_CODE)) {
      const text = gateReasonText(code);
      assert.match(text, /^[A-Z].*\.$/, `${code}: a sentence`);
      assert.doesNotMatch(text, /_/, `${code}: no code in it`);
      texts.add(text);
    }
    assert.equal(texts.size, Object.keys(EVERY_CODE).length, 'no two reasons read the same');
  });

  test('an unknown code is shown, readable, rather than hidden', () => {
    assert.equal(gateReasonText('some_new_reason'), 'some new reason');
  });
});
