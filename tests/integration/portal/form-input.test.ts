// Untrusted input to the portal's real handlers, sent as raw HTTP (no browser, no docker: PGlite and the
// in-process portal over the test gateways): fields sent twice, a form posted from another site's page,
// control characters in a reason or an edited subject, paths that do not decode or name no file, a restore
// that would carry back what only the agency changes, a tampered confirmation. Each is refused with a
// plain-language page and nothing changes.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { MemorySettingsGateway } from './memory-settings-gateway.ts';
import { portalSessions, startPortalHarness, type PortalHarness } from './portal-harness.ts';
import { seedSettings } from './settings-tour.ts';

interface Answer {
  status: number;
  location: string | undefined;
  text: string;
}

void describe('portal form input', () => {
  let h: PortalHarness;
  let settings: MemorySettingsGateway;
  let cookie: string;
  let csrf: string;
  const head = () => settings.current('acme');

  before(async () => {
    settings = new MemorySettingsGateway();
    h = await startPortalHarness({}, undefined, settings);
    settings.now = () => h.clock.now();
    seedSettings(settings, h.clock.now());
    const sessions = await portalSessions(h);
    const session = await sessions.start('active', { clientId: 'acme', email: 'admin@acme.com' });
    cookie = `__Host-fleet-session=${session.token}`;
    csrf = sessions.csrfToken(session);
  });
  after(async () => {
    await h?.close();
  });

  function send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const all: Record<string, string> = { cookie, ...headers };
      if (body !== undefined) {
        all['content-type'] ??= 'application/x-www-form-urlencoded';
        all['content-length'] = String(Buffer.byteLength(body));
      }
      const request = https.request(
        { host: '127.0.0.1', port: h.portal.address.port, servername: 'localhost', ca: h.portal.caCertificatePem ?? '', method, path, headers: all },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, location: response.headers.location, text: Buffer.concat(chunks).toString('utf8') }),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }
  /** A urlencoded form; a list value is sent as that field repeated. */
  function form(fields: Record<string, string | string[]>): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) params.append(name, one);
    return params.toString();
  }
  const post = (path: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}) =>
    send('POST', path, form({ _csrf: csrf, ...fields }), headers);

  void test('a field sent twice is refused by name, not read as empty: the block list and the permissions stay', async () => {
    const before = await head();
    const blockList = await post('/settings/section/blocklist', { base: String(before.version), reason: 'two lists', blockList: ['a.example', 'b.example'] });
    assert.equal(blockList.status, 400);
    assert.match(blockList.text, /blockList: was sent more than once/);
    const permissions = await post('/settings/section/permissions', {
      base: String(before.version),
      reason: 'twice',
      'mail.read': ['on', 'on'],
      'mail.draft': 'on',
      'mail.send': 'on',
      'mail.label': 'on',
      'calendar.read': 'on',
    });
    assert.equal(permissions.status, 400);
    assert.match(permissions.text, /mail\.read: was sent more than once/);
    const reject = await post('/kill', { reason: ['stop', 'now'] });
    assert.equal(reject.status, 400);
    assert.match(reject.text, /reason: was sent more than once/);
    const query = await send('GET', '/activity?type=kill&type=revive');
    assert.equal(query.status, 400);
    assert.match(query.text, /type: was sent more than once/);
    const now = await head();
    assert.equal(now.version, before.version, 'no version was made');
    assert.deepEqual(now.config.blockList, ['rival.example']);
    assert.equal(now.config.permissions['mail.read'], true);
    assert.equal((await h.gateway.status('acme')).killed, false);
  });

  void test('a form posted from another site’s page (Referer, no Origin) is refused even with the token', async () => {
    const before = await head();
    const answer = await post('/settings/section/blocklist', { base: String(before.version), reason: 'x', blockList: 'evil.example' }, { referer: 'https://evil.example/page' });
    assert.equal(answer.status, 403);
    assert.match(answer.text, /This form has expired/);
    const own = await post('/settings/section/blocklist', { base: String(before.version), reason: 'add one', blockList: 'rival.example\nother.example' }, { referer: `${h.portal.url}/settings` });
    assert.equal(own.status, 303, 'a Referer of the portal itself is fine');
    assert.deepEqual((await head()).config.blockList, ['rival.example', 'other.example']);
  });

  void test('control characters in a reason are refused next to the field; a textarea reason keeps its line breaks', async () => {
    const before = await head();
    const answer = await post('/settings/section/blocklist', { base: String(before.version), reason: 'ok\u001b[2J', blockList: 'rival.example' });
    assert.equal(answer.status, 400);
    assert.match(answer.text, /id="err-reason-blocklist">must not contain U\+001B \(a control character\), found at character 3/);
    const bidi = await post('/kill', { reason: 'stop \u202eit' });
    assert.equal(bidi.status, 400);
    assert.match(bidi.text, /reason: must not contain U\+202E \(a bidirectional override\)/);
    assert.equal((await head()).version, before.version);
    assert.equal((await h.gateway.status('acme')).killed, false);
    h.gateway.addApproval('acme', { id: 'ap-reason', draft: { to: ['client@example.com'], cc: [], bcc: [], subject: 'Hello', body: 'Hi' } });
    const rejected = await post('/approvals/ap-reason/reject', { reason: 'Wrong recipient.\r\nAsk Dana first.' });
    assert.equal(rejected.status, 200);
    assert.equal((await h.gateway.getApproval('acme', 'ap-reason'))?.decision?.reason, 'Wrong recipient.\nAsk Dana first.');
  });

  void test('an edited draft: a subject with a line break or an address with a control character is refused, nothing is sent', async () => {
    const draft = { to: ['client@example.com'], cc: [], bcc: [], subject: 'Hello', body: 'Hi' };
    h.gateway.addApproval('acme', { id: 'ap-input', draft });
    const subject = await post('/approvals/ap-input/edit', { to: 'client@example.com', subject: 'Hello\r\nBcc: evil@evil.example', body: 'Hi' });
    assert.equal(subject.status, 400);
    assert.match(subject.text, /subject: must not contain U\+000A \(a line break\), found at character 6/);
    const address = await post('/approvals/ap-input/edit', { to: 'client\u0000@example.com', subject: 'Hello', body: 'Hi' });
    assert.equal(address.status, 400);
    assert.match(address.text, /to: must be email addresses separated by commas/);
    assert.equal(h.gateway.sent.length, 0, 'nothing was sent');
    assert.equal((await h.gateway.getApproval('acme', 'ap-input'))?.state, 'pending');
    const edited = await post('/approvals/ap-input/edit', { to: 'Client@Example.com', subject: 'Hello', body: 'Line one\r\nLine two' });
    assert.equal(edited.status, 200);
    assert.deepEqual(h.gateway.sent.at(-1)?.draft, { to: ['client@example.com'], cc: [], subject: 'Hello', body: 'Line one\nLine two' });
  });

  void test('a path that names no file or does not decode gets its page (404 or 400), not a 500', async () => {
    for (const path of ['/static/missing.css', '/static/.hidden']) {
      const answer = await send('GET', path);
      assert.equal(answer.status, 404, path);
      assert.match(answer.text, /<h1>Not found<\/h1>/, path);
    }
    for (const path of ['/approvals/%E0%A4%A', '/static/%E0%A4%A']) {
      const answer = await send('GET', path);
      assert.equal(answer.status, 400, path);
      assert.match(answer.text, /The request could not be read/, path);
    }
  });

  void test('restoring a version that differs in what only the agency changes is refused, naming those settings', async () => {
    const before = await head();
    // The agency removed an admin and turned dry run on (as `fleet config set` would).
    const agency: ClientConfig = { ...before.config, admins: ['admin@acme.com'], dryRun: true };
    await settings.change('acme', { baseVersion: before.version, document: agency, reason: 'agency change', confirm: ['admins.removed'] }, 'ops');
    const now = await head();
    const answer = await post('/settings/rollback', { base: String(now.version), version: String(before.version), reason: 'undo' });
    assert.equal(answer.status, 409);
    assert.match(answer.text, /Not restored: version \d+ also differs in settings only the agency changes \(admins, dryRun\)/);
    const after = await head();
    assert.equal(after.version, now.version, 'no version was made');
    assert.deepEqual(after.config.admins, ['admin@acme.com']);
  });

  void test('a confirmation carrying more than the forms offer (a rule for spam, a type twice, some permissions only) is refused', async () => {
    const before = await head();
    for (const patch of [
      { autoSendTypes: ['spam', 'acknowledgement'], alwaysApprovalTypes: ['offer'] },
      { autoSendTypes: ['acknowledgement', 'acknowledgement'], alwaysApprovalTypes: ['offer'] },
      { permissions: {} },
    ]) {
      const answer = await post('/settings/confirm', { base: String(before.version), reason: 'x', section: 'rules', patch: JSON.stringify(patch), confirm: 'yes' });
      assert.equal(answer.status, 400, JSON.stringify(patch));
      assert.match(answer.text, /patch: is not the change the page offered/);
    }
    assert.equal((await head()).version, before.version);
  });

  void test('an export or activity range that ends before it starts is refused', async () => {
    const exported = h.gateway.exports.length;
    const answer = await post('/export', { format: 'csv', from: '2026-05-01', to: '2026-01-01' });
    assert.equal(answer.status, 400);
    assert.match(answer.text, /to: is before the &quot;from&quot; date/);
    assert.equal(h.gateway.exports.length, exported);
    const activity = await send('GET', '/activity?from=2026-05-01&to=2026-01-01');
    assert.equal(activity.status, 400);
  });
});
