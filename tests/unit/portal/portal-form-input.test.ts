// The portal's rules for untrusted form input, as pure functions: a field sent twice, free text with
// characters a terminal or a mail header would act on, addresses by the kernel's one rule, where a request
// says it came from, what a confirmation may carry and what a restore may change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from 'zod';
import {
  addressList,
  optionalText,
  parseForm,
  repeatedField,
  requiredText,
} from '../../../orchestrator/src/portal/http/forms.ts';
import { PageError } from '../../../orchestrator/src/portal/http/page-error.ts';
import { claimedOrigin } from '../../../orchestrator/src/portal/http/request-state.ts';
import { agencyOnlyPaths, patchSchema } from '../../../orchestrator/src/portal/settings/settings-form.ts';

const refusal = (run: () => unknown): string | null => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof PageError);
    assert.equal(error.status, 400);
    return error.message;
  }
  return null;
};

void test('a field that arrives more than once is refused by name, in a form or a query string', () => {
  assert.equal(repeatedField({ a: '1', b: ['1', '2'] }), 'b');
  assert.equal(repeatedField({ a: '1' }), undefined);
  assert.equal(repeatedField(undefined), undefined);
  const schema = z.object({ reason: requiredText(10) }).strict();
  assert.equal(refusal(() => parseForm(schema, { reason: ['a', 'b'] })), 'reason: was sent more than once');
});

void test('a reason refuses control characters, bidirectional overrides and invisible characters; a textarea keeps its lines', () => {
  const line = requiredText(100);
  const lines = requiredText(100, { multiLine: true });
  assert.match(line.safeParse('ok\u001b[31m').error?.issues[0]?.message ?? '', /U\+001B \(a control character\), found at character 3/);
  assert.match(line.safeParse('a\u202eb').error?.issues[0]?.message ?? '', /U\+202E \(a bidirectional override\)/);
  assert.match(line.safeParse('a\u200bb').error?.issues[0]?.message ?? '', /U\+200B \(an invisible character\)/);
  assert.match(line.safeParse('one\ntwo').error?.issues[0]?.message ?? '', /a line break/);
  assert.equal(lines.parse('  one\r\ntwo\tthree  '), 'one\ntwo\tthree');
  assert.match(lines.safeParse('one\rtwo').error?.issues[0]?.message ?? '', /U\+000D/);
  assert.equal(line.parse('Crème brûlée, 東京, مرحبا'), 'Crème brûlée, 東京, مرحبا');
});

void test('an edited subject is one line; an edited body may have lines and tabs but no other control character', () => {
  const subject = optionalText(100);
  const body = optionalText(100, { multiLine: true });
  assert.match(subject.safeParse('Hi\r\nBcc: x@evil.example').error?.issues[0]?.message ?? '', /U\+000A \(a line break\), found at character 3/);
  assert.match(subject.safeParse('Hi\u2028there').error?.issues[0]?.message ?? '', /U\+2028 \(a line break\)/);
  assert.equal(subject.parse('Re: \u200bquoted'), 'Re: \u200bquoted', 'what the page cannot show is left alone');
  assert.equal(body.parse('one\r\ntwo\tthree'), 'one\ntwo\tthree');
  assert.match(body.safeParse('bell\u0007').error?.issues[0]?.message ?? '', /U\+0007 \(a control character\)/);
});

void test('addresses follow the kernel rule: lower-cased, and the first that is not an address is named', () => {
  const list = addressList(3);
  assert.deepEqual(list.parse(' Dana@Example.com, b@c.example\nc@d.example '), ['dana@example.com', 'b@c.example', 'c@d.example']);
  for (const bad of ['a\u0000b@example.com', 'a@localhost', 'Dana <dana@example.com>', 'a@[127.0.0.1]', 'a@example.com.']) {
    const message = list.safeParse(`ok@example.com, ${bad}`).error?.issues[0]?.message ?? '';
    assert.match(message, /^must be email addresses separated by commas \(“.*” is not one\)$/, bad);
  }
  assert.match(list.safeParse('a@b.example,c@d.example,e@f.example,g@h.example').error?.issues[0]?.message ?? '', /more than 3/);
});

void test('where a request came from: Origin, else the Referer’s origin, else unknown', () => {
  assert.equal(claimedOrigin({ origin: 'https://portal.example', referer: 'https://evil.example/x' }), 'https://portal.example');
  assert.equal(claimedOrigin({ referer: 'https://evil.example/page?x=1' }), 'https://evil.example');
  assert.equal(claimedOrigin({ referer: 'not a url' }), 'invalid');
  assert.equal(claimedOrigin({}), undefined);
});

void test('a confirmation carries only what the forms offer: every capability, rule types once, never spam or newsletters', () => {
  assert.equal(patchSchema.safeParse({ autoSendTypes: ['spam'] }).success, false);
  assert.equal(patchSchema.safeParse({ alwaysApprovalTypes: ['newsletter'] }).success, false);
  assert.equal(patchSchema.safeParse({ autoSendTypes: ['follow_up', 'follow_up'] }).success, false);
  assert.equal(patchSchema.safeParse({ freeText: ['follow_up', 'follow_up'] }).success, false);
  assert.equal(patchSchema.safeParse({ permissions: { 'mail.send': true } }).success, false);
  assert.equal(patchSchema.safeParse({ autoSendTypes: ['follow_up'], alwaysApprovalTypes: ['offer'] }).success, true);
});

void test('a restore may change the sections the portal edits, nothing the agency owns', () => {
  assert.deepEqual(
    agencyOnlyPaths(['permissions.mail.send', 'blockList', 'rateLimits.perHour', 'onboarding.startedAt', 'autoReply.freeTextAutoSend', 'autoSendTypes']),
    [],
  );
  assert.deepEqual(agencyOnlyPaths(['admins', 'mailbox', 'autoReply.templates', 'dryRun', 'blockListExtra']), ['admins', 'mailbox', 'autoReply.templates', 'dryRun', 'blockListExtra']);
});

void test('a field the page always sends but that is missing, or a choice not offered, is named in plain words', () => {
  const schema = z.object({ base: z.string().regex(/^\d+$/, 'is not a version'), section: z.enum(['limits', 'rules']) }).strict();
  assert.equal(refusal(() => parseForm(schema, { section: 'limits' })), 'base: is missing: reload the page and send the form again');
  assert.equal(refusal(() => parseForm(schema, { base: 'x', section: 'limits' })), 'base: is not a version', 'the field’s own words win');
  assert.equal(refusal(() => parseForm(schema, { base: '1', section: 'admins' })), 'section: is not one of the choices offered');
});
