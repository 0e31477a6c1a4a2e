// The portal's page of emails the assistant set aside for a person, in-process over real forms and views:
// it lists them in plain words (subject, reason, how long ago, sender; no body), says what each button
// does before it is pressed, resolves only for the signed-in admin's client, and refuses a bad form.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { ParkedEmail, ParkedEmailAction } from '../../../orchestrator/src/portal/client-gateway.ts';
import { reviewRoutes, waitedFor } from '../../../orchestrator/src/portal/http/routes-review.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';

const PARKED: ParkedEmail[] = [
  { messageId: 'm-old', reason: 'low_confidence', since: '2026-03-07T09:00:00.000Z', sender: 'bob@example.com', subject: 'Invoice 42 & receipt', retried: false },
  { messageId: 'm-<b>x</b>', reason: 'malformed_model_output', since: '2026-03-10T10:00:00.000Z', sender: null, subject: null, retried: true },
  { messageId: 'm-odd', reason: 'some_new_reason', since: '2026-03-10T11:59:40.000Z', sender: '<script>@evil.example', subject: '</bdi><script>alert(1)</script>', retried: false },
  { messageId: 'm-blank', reason: 'low_confidence', since: '2026-03-10T11:00:00.000Z', sender: 'ann@example.com', subject: '', retried: false },
];

describe('the emails set aside for a person', () => {
  let harness: RouteHarness;
  const asked: { clientId: string; messageId: string; action: ParkedEmailAction; by: string }[] = [];
  const done = new Set<string>();

  before(async () => {
    harness = await startRouteHarness(reviewRoutes, {
      gateway: {
        status: () => Promise.resolve(null),
        parkedEmails: (clientId: string) => Promise.resolve({ emails: clientId === 'acme' ? PARKED : [], limit: 1000 }),
        resolveParkedEmail: (clientId: string, messageId: string, action: ParkedEmailAction, by: string) => {
          asked.push({ clientId, messageId, action, by });
          // The agent of acme knows only acme's messages; another client's id is not found there.
          if (clientId !== 'acme' || !PARKED.some((email) => email.messageId === messageId)) return Promise.reject(new FleetError('not_found', 'no such message in the review queue'));
          if (action === 'retry' && messageId === 'm-<b>x</b>') return Promise.reject(new FleetError('conflict', 'internal wording: second retry'));
          const changed = !done.has(`${messageId} ${action}`);
          done.add(`${messageId} ${action}`);
          return Promise.resolve({ changed });
        },
      } as never,
    });
  });
  after(() => harness.close());
  beforeEach(() => {
    asked.length = 0;
  });

  test('lists each in plain words with how long ago and the sender, escaped; retry only where it is left', async () => {
    const page = await harness.get('/review');
    assert.equal(page.status, 200);
    assert.match(page.text, /4 emails set aside, oldest first/);
    assert.match(page.text, /<h2 id="parked-0"><bdi>Invoice 42 &amp; receipt<\/bdi><\/h2>/, 'the subject heads its entry, isolated and escaped');
    assert.match(page.text, /<h2 id="parked-1">\(subject not recorded\)<\/h2>/, 'an entry parked before subjects were kept');
    assert.match(page.text, /<h2 id="parked-3"><bdi>\(no subject\)<\/bdi><\/h2>/);
    assert.ok(!page.text.includes('<script>alert') && page.text.includes('&lt;/bdi&gt;&lt;script&gt;alert(1)'), 'a subject is escaped');
    assert.match(page.text, /From <bdi>bob@example\.com<\/bdi>/);
    assert.match(page.text, /The assistant was not sure what kind of email this is/);
    assert.match(page.text, /Set aside 3 days ago/);
    assert.match(page.text, /Sender not read yet/);
    assert.match(page.text, /came back garbled/);
    assert.match(page.text, /Already tried again/);
    assert.match(page.text, /The assistant could not handle this email by itself/, 'an unknown reason in general words');
    assert.match(page.text, /Set aside just now/);
    assert.ok(!page.text.includes('<script>@evil') && page.text.includes('&lt;script&gt;@evil'), 'a sender is escaped');
    assert.ok(!page.text.includes('m-<b>x</b>'), 'a message id is escaped');
    assert.equal(page.text.match(/action="\/review\/handled"/g)?.length, 4);
    assert.equal(page.text.match(/action="\/review\/retry"/g)?.length, 3, 'no retry button where the retry is used');
    assert.match(page.text, /It leaves this list and the assistant will not touch it/, 'what "handled" does, before pressing');
    assert.match(page.text, /It gets one more try; if it is stuck again, the email comes back here/, 'what "retry" does, before pressing');
    assert.match(page.text, /name="_csrf" value="csrf-under-test"/);
  });

  test('each button resolves for the signed-in admin’s client and says what happened; the same again changes nothing', async () => {
    const handled = await harness.post('/review/handled', { message: 'm-old' });
    assert.equal(handled.status, 200);
    assert.match(handled.text, /The email has left the list/);
    assert.deepEqual(asked, [{ clientId: 'acme', messageId: 'm-old', action: 'handled', by: 'dana@acme.example' }]);
    assert.match((await harness.post('/review/handled', { message: 'm-old' })).text, /had already been marked as dealt with\. Nothing changed/);
    const retry = await harness.post('/review/retry', { message: 'm-odd' });
    assert.match(retry.text, /will read this email again from the start/);
  });

  test('another client’s or an unknown id is not found; a refused retry is plain words; a bad form is refused before the agent', async () => {
    assert.equal((await harness.post('/review/handled', { message: 'm-of-globex' })).status, 404);
    const second = await harness.post('/review/retry', { message: 'm-<b>x</b>' });
    assert.equal(second.status, 409);
    assert.match(second.text, /already had its one more try/);
    assert.ok(!second.text.includes('internal wording'));
    asked.length = 0;
    const forms: Record<string, string>[] = [{ message: '' }, { message: 'm-1\nforged' }, { message: 'm'.repeat(2001) }, { message: 'm-old', extra: '1' }, {}];
    for (const fields of forms) {
      assert.equal((await harness.post('/review/handled', fields)).status, 400, JSON.stringify(fields).slice(0, 60));
    }
    assert.equal((await harness.post('/review/handled', { message: 'm-old', _csrf: 'forged' })).status, 403);
    assert.deepEqual(asked, [], 'nothing refused reached the agent');
  });

  test('how long ago is coarse and never negative', () => {
    const now = new Date('2026-03-10T12:00:00.000Z');
    assert.equal(waitedFor('2026-03-10T11:59:30.000Z', now), 'just now');
    assert.equal(waitedFor('2026-03-10T11:59:00.000Z', now), '1 minute ago');
    assert.equal(waitedFor('2026-03-10T09:00:00.000Z', now), '3 hours ago');
    assert.equal(waitedFor('2026-03-08T12:00:00.000Z', now), '2 days ago');
    assert.equal(waitedFor('2026-03-11T12:00:00.000Z', now), 'just now');
    assert.equal(waitedFor('not a date', now), 'some time ago');
  });
});
