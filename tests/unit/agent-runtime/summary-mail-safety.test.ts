// The daily summary comes from a sender the admins trust and quotes what strangers wrote (subjects,
// reasons): none of it may pass as the agent's own words, links or lines, and no amount of it may stop the
// summary from being sent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { defang, oneLine, QUOTE_MAX_CHARS, quoteFromMail } from '../../../agent-image/src/services/daily-summary/mail-quote.ts';
import { LIST_LIMIT, renderSummaryHtml, renderSummaryText, summarySubject } from '../../../agent-image/src/services/daily-summary/render-summary.ts';
import { buildSummaryReport, type SummaryReport } from '../../../agent-image/src/services/daily-summary/summary-report.ts';
import { validateOutboundMessage } from '../../../agent-image/src/services/outbox/validate-message.ts';
import { measureStringWork } from '../linear-work/string-work-meter.ts';
import { auditRecord, summaryMeta, summaryRange } from './summary-records.ts';

const PORTAL = summaryMeta.portalUrl;

function pending(id: string, subject: string, expiresAt = '2026-01-09T10:00:00.000Z'): AuditRecord {
  return auditRecord('approval_requested', { approval_id: id, subject, expires_at: expiresAt }, 'lead@newco.example');
}

function reportOf(records: AuditRecord[]): SummaryReport {
  return buildSummaryReport(records, records, summaryRange);
}

/** Every run of text a mail client would turn into a web link: schemes, www. and bare host names (not addresses). */
function linkLike(text: string): string[] {
  return text.match(/\b(?:[a-z][a-z0-9+.-]*:\/\/|www\.)[^\s"'<>]*|(?<![@\w.-])(?:[a-z0-9-]+\.)+[a-z]{2,}\b/giu) ?? [];
}

describe('the daily summary shows text from mail as quoted text', () => {
  const subjects = [
    'Approve now: https://portal-login.evil.example/approvals/ap_1',
    'Your session ended, sign in again at www.acme-portal.example or 203.0.113.7',
    '<a href="javascript:alert(1)">x</a> <img src="https://track.evil.example/p.gif"> <!--[if mso]><style>a{}</style><![endif]-->',
    'Invoice evil\u200B.example and evil\u3002example',
  ];
  const report = reportOf(subjects.map((subject, index) => pending(`ap_${index}`, subject)));
  const text = renderSummaryText(report, summaryMeta);
  const html = renderSummaryHtml(report, summaryMeta);

  test('links in subjects are switched off in both parts; every link left is the portal’s', () => {
    for (const part of [text, html]) {
      const links = linkLike(part);
      assert.ok(links.length > 0);
      for (const found of links) assert.ok(found.startsWith(PORTAL) || PORTAL.includes(found), `${found} is not the portal's`);
    }
    assert.ok(text.includes('hxxps[:]//portal-login[.]evil[.]example/approvals/ap_1'), 'still readable, visibly defanged');
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
    assert.deepEqual(hrefs.sort(), ['ap_0', 'ap_1', 'ap_2', 'ap_3'].map((id) => `${PORTAL}/approvals/${id}`));
    assert.doesNotMatch(html, /<img|<style|<!--\[if/i);
    assert.doesNotMatch(text + html, /javascript:/i);
  });

  test('the mail says which links are the portal’s and that subjects are the senders’ words', () => {
    assert.match(text, /The only links in this email go to your client portal \(https:\/\/portal\.acme\.example\)/);
    assert.match(text, /Subjects come from the emails being answered/);
    assert.match(html, /The only links in this email go to your client portal/);
  });
});

describe('characters that break lines or reorder text', () => {
  test('cannot add a line of their own to the plain-text part, nor turn a name around', () => {
    const fake = `Hello\u2028    review and decide: ${PORTAL}/approvals/ap_9\u0085\u000b\u000c\u2029end`;
    const report = reportOf([pending('ap_1', fake), pending('ap_2', 'Invoice \u202Efdp.exe \u2067x\u2069')]);
    const text = renderSummaryText(report, summaryMeta);
    const html = renderSummaryHtml(report, summaryMeta);
    for (const part of [text, html]) assert.doesNotMatch(part, /[\u2028\u2029\u0085\u000b\u000c\u202a-\u202e\u2066\u2067]/u);
    for (const part of [text, html]) {
      assert.doesNotMatch(part.replace(/\u2068[^\u2068\u2069]*\u2069/gu, ''), /[\u2068\u2069]/u, 'the only isolates are the summary’s own, each closed');
    }
    const decideLines = text.split('\n').filter((line) => /review and decide:/.test(line) && !line.includes('"'));
    assert.deepEqual(decideLines.map((line) => line.trim()), [`review and decide: ${PORTAL}/approvals/ap_1`, `review and decide: ${PORTAL}/approvals/ap_2`]);
    assert.ok(text.includes('\u2068Invoice \uFFFDfdp[.]exe \uFFFDx\uFFFD\u2069'), 'the override is shown as a mark, the name in its real order');
    assert.match(html, /<bdi>Invoice \uFFFDfdp\[\.\]exe/u);
  });
});

describe('a flood of pending approvals and anomalies', () => {
  test('makes a summary the outbox accepts, with the soonest to expire first and the rest counted', () => {
    const records: AuditRecord[] = [];
    const huge = 'S'.repeat(1_000_000);
    for (let index = 0; index < 10_000; index++) {
      const hours = String(10 + (index % 10)).padStart(2, '0');
      records.push(pending(`ap_${index}`, index === 0 ? huge : `Lead ${index} `.padEnd(300, 'x'), `2026-01-09T${hours}:00:00.000Z`));
      records.push(auditRecord('policy_denied', { reasons: ['rate_limit_hour'] }));
    }
    records.push(pending('ap_soonest', 'Soonest', '2026-01-08T00:00:00.000Z'));
    const report = reportOf(records);
    assert.equal(report.pendingApprovals.length, 10_001, 'the report itself stays complete');
    const text = renderSummaryText(report, summaryMeta);
    const html = renderSummaryHtml(report, summaryMeta);
    const problems = validateOutboundMessage({
      to: ['boss@acme.example'],
      cc: [],
      bcc: [],
      subject: summarySubject(report, summaryMeta),
      text,
      html,
      inReplyTo: null,
      threadId: null,
      headers: {},
    });
    assert.deepEqual(problems, []);
    assert.ok(text.length < 100_000 && html.length < 100_000, `text ${text.length}, html ${html.length}`);
    assert.equal((text.match(/review and decide:/g) ?? []).length, LIST_LIMIT);
    assert.match(text, new RegExp(`Waiting for your approval: 10001\\n(?:.*\\n){2} {2}- ap_soonest: "\u2068Soonest\u2069"`, 'u'));
    assert.match(text, new RegExp(`- and ${(10_001 - LIST_LIMIT).toLocaleString('en-GB')} more: ${PORTAL}/approvals\\n`));
    assert.match(text, /Anomalies and pauses: 10000\n {2}- rate_limit: \u2068rate_limit_hour\u2069: 10,000 times, /u);
  });
});

describe('quoting text from mail', () => {
  test('encoded words are made inert, so a header cannot show what they hide', () => {
    assert.equal(quoteFromMail('Re: =?utf-8?B?PGI+aGk8L2I+?= and =?ISO-8859-1?q?caf=E9?='), 'Re: = ?utf-8?B?PGI+aGk8L2I+?= and = ?ISO-8859-1?q?caf=E9?=');
  });

  test('cuts on characters, not halves of one, and marks the cut; a 1 MB subject costs little', () => {
    const cut = oneLine(`${'a'.repeat(198)}\u{1F600}\u{1F600}\u{1F600}`, 200);
    assert.equal(Array.from(cut).length, 200);
    assert.ok(cut.endsWith('a\u{1F600}…'));
    assert.ok(cut.isWellFormed(), 'no half of a surrogate pair');
    // The work is bounded by what is shown, not by what was sent: a quadratic cut of 1 MB takes minutes.
    const { result } = measureStringWork(() => quoteFromMail('x.'.repeat(500_000)), 100 * QUOTE_MAX_CHARS);
    assert.equal(Array.from(result).length, 200);
  });

  test('keeps ordinary text as it is: numbers, abbreviations, emoji sequences, addresses in oneLine', () => {
    assert.equal(quoteFromMail('Re: Meeting at 3.30, e.g. tomorrow; v1.2 costs €4.50'), 'Re: Meeting at 3.30, e.g. tomorrow; v1.2 costs €4.50');
    assert.equal(quoteFromMail('family 👨\u200D👩\u200D👧'), 'family 👨\u200D👩\u200D👧');
    assert.equal(oneLine('kim@partner.example'), 'kim@partner.example');
    assert.equal(defang('mailto:a@b.example tel:+44 data:text/html'), 'mailto[:]a@b[.]example tel[:]+44 data[:]text/html');
  });
});
