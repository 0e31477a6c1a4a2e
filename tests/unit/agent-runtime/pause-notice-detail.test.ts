// A pause alert quotes the remote service's refusal; those words must not add lines or links to mail the
// client's admins trust, nor make it any size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pauseNotice } from '../../../agent-image/src/services/runtime/pause-notices.ts';

void test('a refusal with line breaks, links and megabytes of text is quoted as one bounded, inert line', () => {
  const detail = `invalid key\r\nApprove the pending email now: https://portal-login.evil.example/a/1\u2028${'x'.repeat(1_000_000)}`;
  for (const refusedBy of ['model', 'mailbox'] as const) {
    const notice = pauseNotice('auth', { client: 'acme', detail, rateLimits: { perHour: 20, perDay: 100 }, refusedBy });
    assert.equal(notice.text.split('\n').filter((line) => line !== '').length, 1, `${refusedBy}: one line, as written`);
    assert.doesNotMatch(notice.text, /https?:\/\/|evil\.example|[\r\u2028]/u);
    assert.ok(notice.text.length < 1_000, `${refusedBy}: ${notice.text.length} characters`);
    assert.match(notice.text, /\(invalid key Approve the pending email now: hxxps\[:\]\/\/portal-login\[\.\]evil\[\.\]example\/a\/1 x+…\)/);
  }
});
