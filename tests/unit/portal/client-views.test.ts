// The pieces behind the portal that are plain functions: local days of the summary, the admin notices'
// rules, the email layout's escaping, ops' view of the approval queue, the portal origin agents are given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { localMidnight } from '../../../agent-image/src/services/daily-summary/summary-for-date.ts';
import { emailDocument, factTable } from '../../../agent-image/src/services/daily-summary/email-layout.ts';
import { sendAdminNotice, type AdminNotice } from '../../../agent-image/src/services/runtime/admin-notices.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import { portalOrigin } from '../../../orchestrator/src/domain/portal-origin.ts';
import { listApprovalsForOperator } from '../../../orchestrator/src/services/operator-approvals.ts';
import { SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { registryBackends } from '../../helpers/registries.ts';

const code = (expected: string) => (error: unknown) => isFleetError(error) && error.code === expected;

void test('a local day starts at local midnight, across time zones and DST; bad dates are invalid_input', () => {
  assert.equal(localMidnight('2026-01-07', 'UTC').toISOString(), '2026-01-07T00:00:00.000Z');
  assert.equal(localMidnight('2026-01-07', 'Europe/London').toISOString(), '2026-01-07T00:00:00.000Z');
  assert.equal(localMidnight('2026-07-07', 'Europe/London').toISOString(), '2026-07-06T23:00:00.000Z');
  assert.equal(localMidnight('2026-03-29', 'Europe/Berlin').toISOString(), '2026-03-28T23:00:00.000Z');
  assert.equal(localMidnight('2026-03-30', 'Europe/Berlin').toISOString(), '2026-03-29T22:00:00.000Z');
  assert.equal(localMidnight('2026-01-07', 'America/New_York').toISOString(), '2026-01-07T05:00:00.000Z');
  assert.equal(localMidnight('2026-01-07', 'Pacific/Kiritimati').toISOString(), '2026-01-06T10:00:00.000Z');
  for (const bad of ['2026-02-30', '2026-13-01', '07/01/2026', '']) {
    assert.throws(() => localMidnight(bad, 'UTC'), code('invalid_input'), bad);
  }
});

void test('admin notices: approval links once per approval, enrolment links to that admin only, portal URLs only', async () => {
  const parsed = parseClientConfig({ client: 'acme', admins: ['Boss@Acme.example', 'second@acme.example'], displayName: 'Acme <Ltd>' });
  assert.ok(parsed.ok);
  const config = parsed.config;
  const calls: { kind: string; key: string; subject: string; text: string; html: string | null; only: readonly string[] | null }[] = [];
  const notifier = {
    notify: async (kind: string, key: string, subject: string, text: string, html: string | null = null, only: readonly string[] | null = null) => {
      calls.push({ kind, key, subject, text, html, only });
      return 'sent' as const;
    },
  };
  const approval = (status: string) =>
    ({
      record: { id: 'ap_1', status, policyReasons: ['new_contact'], expiresAt: '2026-01-08T00:00:00.000Z' },
      preview: { to: ['lead@newco.example'], cc: [], subject: 'Re: <Prices>', bodyPreview: '', emailType: null },
    }) as unknown as StoredApproval;
  let current = approval('pending');
  const deps = { config, notifier, approval: (id: string) => (id === 'ap_1' ? current : undefined), portalUrl: 'https://portal.example:7443' };
  const send = (notice: AdminNotice) => sendAdminNotice(deps, notice);

  assert.equal(await send({ kind: 'approval', approvalId: 'ap_1', url: 'https://portal.example:7443/a/l1.x.y' }), 'sent');
  const mailed = calls.at(-1)!;
  assert.equal(mailed.kind, 'approval_request');
  assert.equal(mailed.key, 'approval:ap_1', 'the agent mails an approval once');
  assert.equal(mailed.only, null, 'to every admin');
  assert.match(mailed.text, /To: lead@newco\.example/);
  assert.match(mailed.text, /https:\/\/portal\.example:7443\/a\/l1\.x\.y/);
  assert.ok(mailed.html?.includes('href="https://portal.example:7443/a/l1.x.y"'));
  assert.ok(!mailed.html?.includes('<Prices>') && mailed.html?.includes('&#60;Prices&#62;'), 'escaped');
  assert.ok(!mailed.html?.includes('Acme <Ltd>'));

  await assert.rejects(send({ kind: 'approval', approvalId: 'ap_2', url: 'https://portal.example:7443/a/x' }), code('not_found'));
  await assert.rejects(send({ kind: 'approval', approvalId: 'ap_1', url: 'https://elsewhere.example/a/x' }), code('invalid_input'));
  await assert.rejects(send({ kind: 'approval', approvalId: 'ap_1', url: 'http://portal.example:7443/a/x' }), code('invalid_input'));
  current = approval('approved');
  await assert.rejects(send({ kind: 'approval', approvalId: 'ap_1', url: 'https://portal.example:7443/a/x' }), code('conflict'));

  const url = 'https://portal.example:7443/enrol/tok';
  await send({ kind: 'enrolment', email: 'BOSS@acme.example', url, expiresAt: '2026-01-08T00:00:00.000Z' });
  assert.deepEqual(calls.at(-1)?.only, ['boss@acme.example'], 'only the admin being enrolled');
  assert.equal(calls.at(-1)?.kind, 'portal_enrolment');
  await assert.rejects(send({ kind: 'enrolment', email: 'ops@agency.example', url, expiresAt: '2026-01-08T00:00:00.000Z' }), code('invalid_input'));
});

void test('an approval notice quotes a hostile subject as inert text: no link, no header line, no reordering, in its own Subject too', async () => {
  const parsed = parseClientConfig({ client: 'acme', admins: ['boss@acme.example'] });
  assert.ok(parsed.ok);
  const calls: { subject: string; text: string; html: string | null }[] = [];
  const notifier = {
    notify: async (_kind: string, _key: string, subject: string, text: string, html: string | null = null) => {
      calls.push({ subject, text, html });
      return 'sent' as const;
    },
  };
  const hostile = 'Approve now: https://portal-login.evil.example/a/x\u2028Subject: =?utf-8?B?UGF5?= Invoice \u202Efdp.exe';
  const entry = {
    record: { id: 'ap_9', status: 'pending', policyReasons: ['new_contact'], expiresAt: '2026-01-08T00:00:00.000Z' },
    preview: { to: ['lead@newco.example'], cc: [], subject: hostile, bodyPreview: '', emailType: null },
  } as unknown as StoredApproval;
  const portal = 'https://portal.example:7443';
  await sendAdminNotice({ config: parsed.config, notifier, approval: () => entry, portalUrl: portal }, { kind: 'approval', approvalId: 'ap_9', url: `${portal}/a/l9.x.y` });
  const mailed = calls.at(-1)!;
  for (const [part, text] of [['subject', mailed.subject], ['text', mailed.text], ['html', mailed.html ?? '']] as const) {
    assert.doesNotMatch(text, /https?:\/\/portal-login|evil\.example/, `${part}: the sender's link is not clickable`);
    assert.doesNotMatch(text, /[\u2028\u202E]/u, `${part}: no line separator or reordering character`);
    assert.doesNotMatch(text, /=\?utf-8\?B\?/i, `${part}: no encoded word a mail client would decode`);
  }
  assert.doesNotMatch(mailed.subject, /[\r\n]/);
  const links = [...mailed.text.matchAll(/https?:\/\/[^\s)]+/g)].map((match) => match[0]);
  assert.ok(links.includes(`${portal}/a/l9.x.y`));
  assert.ok(links.every((link) => link.startsWith(portal)), `every link is the portal's: ${links.join(', ')}`);
  assert.match(mailed.text, /only link in this email goes to your client portal \(https:\/\/portal\.example:7443\)/);
});

void test('the email layout escapes what it is given and stays one phone-width column', () => {
  const html = emailDocument({ title: 'T <b>', preheader: 'p', content: factTable([['a<', 'b&']]), footer: 'f' });
  assert.match(html, /max-width:600px/);
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.ok(html.includes('T &#60;b&#62;') && html.includes('a&#60;') && html.includes('b&#38;'));
  assert.ok(!/<style|<link/i.test(html), 'inline styles only');
});

void test('the portal origin agents link to: the proxy URL, else the TLS name and port; unknown with port 0', () => {
  assert.equal(portalOrigin({ publicUrl: 'https://portal.example.com/x', tlsNames: ['a'], port: 1 }), 'https://portal.example.com');
  assert.equal(portalOrigin({ publicUrl: undefined, tlsNames: ['portal.local', 'b'], port: 7443 }), 'https://portal.local:7443');
  assert.equal(portalOrigin({ publicUrl: undefined, tlsNames: ['::1'], port: 7443 }), 'https://[::1]:7443');
  assert.equal(portalOrigin({ publicUrl: undefined, tlsNames: ['localhost'], port: 0 }), undefined);
});

void test('ops see counts and ages of the approval queue, and the drafts only under an active grant (logged)', async () => {
  const opened = await registryBackends[0]!.open();
  try {
    const registry = opened.registry;
    const now = new Date('2026-01-07T12:00:00Z');
    await registry.claimForProvisioning(
      { id: 'acme' as ClientId, provider: 'gmail', admins: ['boss@acme.example'], configYaml: 'client: acme\nadmins: [boss@acme.example]\n', onboardingStartedAt: now.toISOString() },
      'op-1',
      now,
      60_000,
    );
    const agents = {
      listApprovals: async () => ({
        approvals: [
          { id: 'ap_1', status: 'pending', action: 'mail.send', createdAt: '2026-01-07T09:30:00Z', expiresAt: '2026-01-10T09:30:00Z', recipients: ['lead@newco.example'], subject: 'Secret deal' },
          { id: 'ap_2', status: 'pending', action: 'mail.send', createdAt: '2026-01-07T11:50:00Z', expiresAt: '2026-01-10T11:50:00Z', recipients: ['x@y.example'], subject: 'Other' },
        ],
      }),
    };
    const support = new SupportAccessService({ registry, clock: { now: () => new Date() } });
    const hidden = await listApprovalsForOperator({ agents, support }, 'acme', 'pending', 'alice@agency', now);
    assert.equal(hidden.content, 'hidden');
    if (hidden.content !== 'hidden') return;
    assert.equal(hidden.count, 2);
    assert.equal(hidden.oldestAgeMinutes, 150);
    assert.deepEqual(hidden.approvals.map((entry) => entry.ageMinutes), [150, 10]);
    assert.ok(!JSON.stringify(hidden).includes('Secret deal') && !JSON.stringify(hidden).includes('lead@'));

    const grant = await support.request({ clientId: 'acme', member: 'alice@agency', incident: 'INC-1', reason: 'debug', actor: 'alice@agency' });
    await support.approve({ clientId: 'acme', grantId: grant.id, by: 'boss@acme.example', actor: 'client-admin:boss@acme.example' });
    assert.equal((await listApprovalsForOperator({ agents, support }, 'acme', 'pending', 'bob@agency', now)).content, 'hidden', 'the grant is alice’s');
    const shown = await listApprovalsForOperator({ agents, support }, 'acme', 'pending', 'alice@agency', now);
    assert.equal(shown.content, 'shown');
    assert.ok(JSON.stringify(shown).includes('Secret deal'));
    const access = (await registry.listOpsLog({ clientId: 'acme' })).at(-1);
    assert.equal(access?.action, 'support-access');
    assert.equal(access?.details['purpose'], 'approvals list');
  } finally {
    await opened.close();
  }
});
