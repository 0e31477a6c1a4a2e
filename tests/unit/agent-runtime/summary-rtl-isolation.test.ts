// A right-to-left name (Arabic, Hebrew) shown inside one of the agent's sentences is laid out together with
// the words and numbers around it by the Unicode bidi algorithm, so the sentence can read in another order
// than it was written ("3 blocked" next to a Hebrew name). Every piece of text someone else chose is
// isolated: <bdi> in HTML, FSI…PDI in the plain-text part and the Subject; bidi controls inside it are marks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { inlineHtml, inlineText, untrusted } from '../../../agent-image/src/services/daily-summary/inline-text.ts';
import { renderSummaryHtml, renderSummaryText, summarySubject, type SummaryMeta } from '../../../agent-image/src/services/daily-summary/render-summary.ts';
import { buildSummaryReport } from '../../../agent-image/src/services/daily-summary/summary-report.ts';
import { sendAdminNotice } from '../../../agent-image/src/services/runtime/admin-notices.ts';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { auditRecord, summaryMeta, summaryRange } from './summary-records.ts';

const RTL = /[\p{Script=Arabic}\p{Script=Hebrew}]/u;
// A name that tries to close the isolate around it and turn the rest of the line around.
const ESCAPING = 'שלום\u2069\u202E allowed';

/** The text with every FSI…PDI span the renderer made taken out; fails on an isolate left open or unopened. */
function outsideTextIsolates(text: string): string {
  const rest = text.replace(/\u2068[^\u2068\u2069]*\u2069/gu, '');
  assert.doesNotMatch(rest, /[\u2068\u2069]/u, 'isolates are balanced and never nested');
  return rest;
}

/** The HTML with every <bdi> element and every FSI…PDI span (the <title>, which holds no markup) taken out. */
function outsideHtmlIsolates(html: string): string {
  return outsideTextIsolates(html.replace(/<bdi>[^<]*<\/bdi>/gu, ''));
}

function senderRead(sender: string, reason: string): AuditRecord {
  return { ...auditRecord('email_read', { known_contact: true, sender_authenticated: false, sender, sender_auth_reason: reason, no_reply: null }), result: 'success' } as AuditRecord;
}

function hostileReport() {
  const records: AuditRecord[] = [
    senderRead('مدير@بنك.example', 'dmarc=fail (نطاق)'),
    senderRead(`kim${ESCAPING}@partner.example`, `spf ${ESCAPING}`),
    auditRecord('approval_requested', { approval_id: 'ap_1', subject: `فاتورة ${ESCAPING} 42`, expires_at: '2026-01-09T10:00:00.000Z' }, 'عميل@partner.example'),
    auditRecord('approval_requested', { approval_id: 'ap_2', kind: 'calendar.write', operation: 'update', expires_at: '2026-01-09T11:00:00.000Z' }, 'דנה@partner.example'),
    auditRecord('pause', { reason: `auth ${ESCAPING}` }),
    auditRecord('kill', { reason: 'מנהל' }),
    { ...auditRecord('config_change', { settings_version: 4, guard_rails: ['rateLimits.perHour'] }), actor: 'admin:יוסי@acme.example' } as AuditRecord,
  ];
  return buildSummaryReport(records, records, summaryRange);
}

const meta: SummaryMeta = {
  ...summaryMeta,
  displayName: `אקמה ${ESCAPING}`,
  pause: { reason: 'auth', since: '2026-01-07T09:00:00.000Z', detail: `התחברות ${ESCAPING}` },
  freeTextOptIns: [{ type: 'متابعة', acceptedBy: `admin:${ESCAPING}`, acceptedAt: '2026-01-05T09:00:00.000Z' }],
};

describe('right-to-left text in the daily summary', () => {
  const report = hostileReport();
  const text = renderSummaryText(report, meta);
  const html = renderSummaryHtml(report, meta);
  const subject = summarySubject(report, meta);

  test('the test puts right-to-left text in every part', () => {
    for (const part of [text, html, subject]) assert.match(part, RTL);
  });

  test('no right-to-left letter stands outside an isolate in the plain-text part or the Subject', () => {
    assert.doesNotMatch(outsideTextIsolates(text), RTL);
    assert.doesNotMatch(outsideTextIsolates(subject), RTL);
  });

  test('no right-to-left letter stands outside a <bdi> in the HTML part', () => {
    assert.doesNotMatch(outsideHtmlIsolates(html), RTL);
  });

  test('bidi controls inside a name are shown as marks: none closes an isolate early or overrides the line', () => {
    for (const part of [text, html, subject]) {
      assert.doesNotMatch(part, /[\u202A-\u202E\u2066\u2067]/u);
      outsideTextIsolates(part);
    }
    assert.ok(text.includes('\u2068kim\u05E9\u05DC\u05D5\u05DD\uFFFD\uFFFD allowed@partner.example\u2069'), 'the sender whole, in one isolate');
  });

  test('the sentences around the names still read as written', () => {
    assert.match(text, /^Daily summary for \u2068[^\u2069]+\u2069\n/u);
    assert.match(text, / {2}- \u2068[^\u2069]+\u2069: 1 message\(s\) \(\u2068dmarc=fail \(نطاق\)\u2069\)/u);
    assert.match(text, /version 4 by \u2068admin:יוסי@acme\.example\u2069 on /u);
    assert.match(text, /- ap_2: a change to a calendar event, notifies \u2068דנה@partner\.example\u2069 \(decide before/u);
    assert.match(html, /<h1[^>]*>Daily summary for <bdi>[^<]+<\/bdi><\/h1>/u);
    assert.match(html, /<li[^>]*>— <bdi>مدير@بنك\.example<\/bdi>: 1 message\(s\) \(<bdi>dmarc=fail \(نطاق\)<\/bdi>\)<\/li>/u);
  });
});

describe('right-to-left text in the portal enrolment mail', () => {
  test('the client’s name is isolated in the Subject and both parts', async () => {
    const sent: { subject: string; text: string; html: string | null }[] = [];
    const config = { client: 'acme', displayName: `אקמה ${ESCAPING}`, admins: ['boss@acme.example'], timezone: 'UTC' } as unknown as ClientConfig;
    const notifier = {
      notify: async (_kind: string, _key: string, subject: string, text: string, html: string | null = null) => {
        sent.push({ subject, text, html });
        return 'sent' as const;
      },
    };
    const portal = 'https://portal.acme.example';
    await sendAdminNotice(
      { config, notifier, approval: () => undefined, portalUrl: portal },
      { kind: 'enrolment', email: 'boss@acme.example', url: `${portal}/enrol/abc`, expiresAt: '2026-06-02T08:00:00Z' },
    );
    const [mail] = sent;
    assert.ok(mail);
    assert.doesNotMatch(outsideTextIsolates(mail.subject), RTL);
    assert.doesNotMatch(outsideTextIsolates(mail.text), RTL);
    assert.doesNotMatch(outsideHtmlIsolates(mail.html ?? ''), RTL);
    for (const part of [mail.subject, mail.text, mail.html ?? '']) assert.doesNotMatch(part, /[\u202A-\u202E\u2066\u2067]/u);
  });
});

describe('isolating a piece of a sentence', () => {
  test('a piece that arrives with its own isolates and overrides cannot close the one around it', () => {
    const piece = untrusted('x\u2069 \u202Eyes\u2066');
    assert.equal(inlineText(['was ', piece, ' blocked']), 'was \u2068x\uFFFD \uFFFDyes\uFFFD\u2069 blocked');
    assert.equal(inlineHtml(['was ', piece, ' <b>']), 'was <bdi>x\uFFFD \uFFFDyes\uFFFD</bdi> &#60;b&#62;');
  });
});
