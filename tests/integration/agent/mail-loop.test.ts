import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { nextWorkingDays } from '../../../agent-image/src/services/mail-loop/working-days.ts';
import type { AnthropicEmulator } from '../../emulators/anthropic-emulator.ts';
import { agentBed } from '../../helpers/agent-bed.ts';
import {
  ADMIN,
  KNOWN,
  clientConfig,
  inboxScript,
  SEEDED_TYPES,
  seedInbox,
  uniqueClient,
  type AgentUnderTest,
  type MailboxUnderTest,
  type ProviderKind,
  type VaultFixture,
} from './agent-harness.ts';

const count = (records: AuditRecord[], type: string, result?: string) =>
  records.filter((record) => record.action_type === type && (result === undefined || record.result === result)).length;

async function seedInboxOf(mailbox: MailboxUnderTest) {
  return seedInbox((seed) => mailbox.seed(seed));
}

for (const kind of ['gmail', 'outlook'] as ProviderKind[]) {
  describe(`the mail loop on ${kind}`, () => {
    const bed = agentBed();
    let vault: VaultFixture;
    let mailbox: MailboxUnderTest;
    let anthropic: AnthropicEmulator;
    before(() => ({ vault, anthropic } = bed)); // the bed's fixtures, by the names the tests use

    async function fresh(overrides: Parameters<typeof clientConfig>[3] = {}): Promise<AgentUnderTest> {
      mailbox = await bed.newMailbox(kind);
      const agent = await bed.startAgent({ config: clientConfig(uniqueClient(), mailbox.mailbox, kind, overrides) });
      assert.equal(await agent.introduce(), 204);
      await agent.runtime.tick(); // the first sync only takes the cursor
      return agent;
    }

    test('a seeded inbox produces exactly the expected drafts, sends, approvals and audit records', async () => {
      const agent = await fresh();
      const ids = await seedInboxOf(mailbox);
      const modelCallsBefore = anthropic.received.length;
      await agent.runtime.tick();
      const records = await agent.auditRecords();
      assert.equal(count(records, 'email_read', 'success'), 6);
      const listRead = records.find((record) => record.action_type === 'email_read' && record.target === ids['list']);
      assert.equal(listRead?.parameters['no_reply'], 'mailing_list');
      assert.equal(anthropic.received.length - modelCallsBefore, 10, 'classify + draft for the five answerable messages, none for the list mail');
      assert.equal(count(records, 'llm_call', 'success'), 10);
      assert.equal(count(records, 'email_draft', 'success'), 5);
      if (kind === 'gmail') assert.equal(mailbox.draftCount(), 4, 'five real drafts, one of them sent');
      // Only the routine acknowledgement to a known contact goes out on its own.
      const sent = mailbox.sent();
      assert.equal(sent.length, 1);
      assert.deepEqual(sent[0]?.to, [KNOWN]);
      assert.match(sent[0]?.subject ?? '', /^Re: Invoice 7/);
      assert.equal(count(records, 'email_send', 'success'), 1);
      const approvals = (await agent.call('GET', '/v1/approvals?status=pending')).json as { approvals: { recipients: string[]; reasons: string[]; emailType: string }[] };
      assert.equal(approvals.approvals.length, 4);
      assert.equal(count(records, 'approval_requested', 'pending'), 4);
      const byRecipient = (address: string) => approvals.approvals.filter((entry) => entry.recipients.includes(address));
      assert.equal(byRecipient(KNOWN).length, 2, 'scheduling and the sensitive contract mail wait for a human');
      assert.ok(byRecipient(KNOWN).some((entry) => entry.reasons.includes('type_requires_approval')));
      assert.ok(byRecipient('lead@newco.example')[0]?.reasons.includes('new_contact'));
      // The injection: held for approval, addressed only to its sender, and nothing reached the named address.
      const injected = byRecipient('attacker@evil.example');
      assert.equal(injected.length, 1);
      assert.ok(injected[0]?.reasons.includes('new_contact'));
      assert.ok(sent.every((mail) => !mail.to.includes('exfil@evil.example') && !mail.to.includes('attacker@evil.example')));
      assert.equal(await agent.metric('agent_emails_read_total'), 6);
      assert.equal(await agent.metric('agent_emails_sent_total'), 1);
      assert.equal(await agent.metric('agent_drafts_created_total'), 5);
      assert.ok((await agent.metric('agent_llm_tokens_total')) > 0);
      assert.ok(await agent.metric('agent_last_sync_timestamp_seconds') > 0);
      // Nothing is processed again on the next round.
      await agent.runtime.tick();
      assert.equal(count(await agent.auditRecords(), 'email_read'), 6);
      assert.equal(mailbox.sent().length, 1);
      const verify = (await agent.call('GET', '/v1/audit/verify')).json as { ok: boolean };
      assert.equal(verify.ok, true);
    });

    test('what no human approved goes out marked automatic (RFC 3834), what a human approved goes out unmarked', async () => {
      const agent = await fresh();
      await seedInboxOf(mailbox);
      await agent.runtime.tick();
      const [automatic] = mailbox.sent();
      assert.deepEqual(automatic?.to, [KNOWN], 'the routine acknowledgement went out on its own');
      assert.equal(automatic?.autoResponseSuppress, 'OOF, AutoReply');
      // Graph refuses to set Auto-Submitted (not an x- header): Outlook carries the Exchange mark only.
      assert.equal(automatic?.autoSubmitted, kind === 'gmail' ? 'auto-replied' : null);
      const pending = (await agent.call('GET', '/v1/approvals?status=pending')).json as { approvals: { id: string; recipients: string[] }[] };
      const approval = pending.approvals.find((entry) => entry.recipients.includes(KNOWN));
      assert.ok(approval, 'a reply to the known contact waits for a human');
      assert.equal((await agent.call('POST', `/v1/approvals/${approval.id}/decision`, { decision: 'approve', by: 'boss' })).status, 200);
      const human = mailbox.sent().slice(1);
      assert.equal(human.length, 1);
      assert.deepEqual([human[0]?.autoSubmitted, human[0]?.autoResponseSuppress], [null, null], 'a reply a human approved is the client answering');
      assert.equal((await agent.runtime.summary.send('day')).outcome, 'sent');
      const summary = mailbox.sent().find((candidate) => candidate.to.includes(ADMIN));
      assert.equal(summary?.autoResponseSuppress, 'OOF, AutoReply');
      assert.equal(summary?.autoSubmitted, kind === 'gmail' ? 'auto-generated' : null);
    });

    test('each classified message is labelled with its category, and by default stays unread in the inbox', async () => {
      const agent = await fresh();
      const ids = await seedInboxOf(mailbox);
      await agent.runtime.tick();
      for (const [key, type] of Object.entries(SEEDED_TYPES)) {
        const id = ids[key as keyof typeof SEEDED_TYPES];
        assert.deepEqual(mailbox.labelsOf(id), [`AgentFleet/${type}`], `${key} is labelled ${type}`);
        assert.deepEqual(mailbox.flagsOf(id), { unread: true, inInbox: true }, `${key} is neither read nor archived`);
      }
      assert.deepEqual(mailbox.labelsOf(ids.list), [], 'list mail is never classified, so never labelled');
      const records = await agent.auditRecords();
      assert.equal(count(records, 'email_label'), 5, 'one record per label: filing is idempotent and redone until recorded');
      assert.equal(count(records, 'email_label', 'success'), 5);
      const labelled = records.filter((record) => record.action_type === 'email_label' && record.result === 'success');
      assert.deepEqual(new Set(labelled.map((record) => record.target)), new Set(Object.keys(SEEDED_TYPES).map((key) => ids[key as keyof typeof SEEDED_TYPES])));
      assert.equal(count(records, 'email_move'), 0);
    });

    test('mark read and archive happen only for the configured types, and only as far as the gate allows', async () => {
      const agent = await fresh({
        permissions: { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true, 'mail.move': true },
        triage: { markReadTypes: ['acknowledgement'], archiveTypes: ['acknowledgement'] },
      });
      const routine = await mailbox.seed({ from: KNOWN, subject: 'Invoice R', text: 'We received the invoice R.' });
      const question = await mailbox.seed({ from: KNOWN, subject: 'Question', text: 'What are your rates?' });
      await agent.runtime.tick();
      assert.deepEqual(mailbox.labelsOf(routine), ['AgentFleet/acknowledgement']);
      assert.equal(mailbox.flagsOf(routine).unread, false, 'a configured type is marked read');
      // Archiving keeps the message in the client's mailbox, so the gate lets a permitted archive through.
      assert.equal(mailbox.flagsOf(routine).inInbox, false, 'a configured type is archived');
      assert.deepEqual(mailbox.flagsOf(question), { unread: true, inInbox: true }, 'other types are left alone');
      const records = await agent.auditRecords();
      assert.equal(records.filter((record) => record.action_type === 'policy_denied' && record.parameters['kind'] === 'mail.move').length, 0);
      const archived = records.filter((record) => record.action_type === 'email_move');
      assert.deepEqual(archived.map((record) => [record.target, record.result]), [[routine, 'success']]);
      const markedRead = records.filter((record) => record.action_type === 'email_label' && record.parameters['operation'] === 'mark_read');
      assert.deepEqual(markedRead.map((record) => record.result), ['success']);
      assert.equal(mailbox.sent().length, 1, 'filing never holds up the reply');
    });

    test('without mail.move a configured archive is refused by the gate and audited', async () => {
      const agent = await fresh({ triage: { archiveTypes: ['acknowledgement'] } });
      const routine = await mailbox.seed({ from: KNOWN, subject: 'Invoice S', text: 'We received the invoice S.' });
      await agent.runtime.tick();
      assert.deepEqual(mailbox.flagsOf(routine), { unread: true, inInbox: true });
      const refused = (await agent.auditRecords()).filter((record) => record.action_type === 'policy_denied' && record.parameters['kind'] === 'mail.move');
      assert.deepEqual(refused.map((record) => record.parameters['reasons']), [['permission_denied']]);
    });

    test('a restart after filing neither labels nor classifies a message again', async () => {
      const agent = await fresh();
      const first = await mailbox.seed({ from: KNOWN, subject: 'Invoice F1', text: 'We received the invoice F1.' });
      const second = await mailbox.seed({ from: KNOWN, subject: 'Invoice F2', text: 'We received the invoice F2.' });
      // Every draft call fails: both messages are classified and labelled, then stop before their drafts.
      anthropic.useScript((request) =>
        request.tool_choice?.name === 'classify_email' ? inboxScript(request) : { error: { status: 400, type: 'invalid_request_error', message: 'scripted failure' } },
      );
      try {
        await agent.runtime.tick();
      } finally {
        anthropic.useScript(inboxScript);
      }
      assert.deepEqual(mailbox.labelsOf(first), ['AgentFleet/acknowledgement']);
      assert.deepEqual(mailbox.labelsOf(second), ['AgentFleet/acknowledgement']);
      assert.equal(mailbox.sent().length, 0);
      const restarted = await agent.restart();
      bed.track(restarted);
      assert.equal(await restarted.introduce(), 204);
      await restarted.runtime.tick();
      assert.equal(mailbox.sent().length, 2, 'both replies went out after the restart');
      const records = await restarted.auditRecords();
      assert.equal(count(records, 'email_label', 'success'), 2, 'each message labelled once');
      const classifications = records.filter((record) => record.action_type === 'llm_call' && record.parameters['purpose'] === 'classify');
      assert.equal(classifications.length, 2, 'each message classified once');
      assert.deepEqual(mailbox.labelsOf(first), ['AgentFleet/acknowledgement']);
    });

    test('a message whose processing keeps failing retryably goes to review once others get through for ten passes; an outage counts nothing', async () => {
      const agent = await fresh();
      const poison = await mailbox.seed({ from: KNOWN, subject: 'Invoice P', text: 'We received the invoice P.' });
      const reviewed = async () =>
        (await agent.auditRecords()).filter((record) => record.action_type === 'review_queued' && record.target === poison).map((record) => record.parameters['reason']);
      const failure = { error: { status: 500, type: 'api_error', message: 'scripted failure' } } as const;
      try {
        // An outage: every model call fails, nothing gets through; however long, no message goes to review for it.
        anthropic.useScript(() => failure);
        for (let pass = 0; pass < 12; pass++) await agent.runtime.tick();
        assert.deepEqual(await reviewed(), []);
        // Only the calls about this one message fail while the others are answered.
        anthropic.useScript((request) => (JSON.stringify(request.messages).includes('Invoice P') ? failure : inboxScript(request)));
        for (let pass = 0; pass < 10; pass++) {
          assert.deepEqual(await reviewed(), [], `not before the tenth such pass (pass ${pass})`);
          await mailbox.seed({ from: KNOWN, subject: `Invoice Q${pass}`, text: `We received the invoice Q${pass}.` });
          await agent.runtime.tick();
        }
      } finally {
        anthropic.useScript(inboxScript);
      }
      assert.deepEqual(await reviewed(), ['processing_failed']);
      const askedAbout = () => anthropic.received.filter((request) => JSON.stringify(request.messages).includes('Invoice P')).length;
      const before = askedAbout();
      await agent.runtime.tick();
      assert.equal(askedAbout(), before, 'the model is not asked about it again');
    });

    test('a message too large to read goes to review after one pass, not after three downloads of it', async () => {
      const agent = await fresh();
      // A body over the 10 MB either provider's read takes (Gmail by its size, Graph by the answer's).
      const line = `${'scan data '.repeat(7)}\r\n`;
      const raw = Buffer.from(
        [`From: ${KNOWN}`, 'To: me@example.com', 'Subject: Scans', 'Message-ID: <scans@partner.example>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', line.repeat(Math.ceil((11 * 1024 * 1024) / line.length))].join('\r\n'),
      );
      const big = await mailbox.seedRaw(raw);
      await agent.runtime.tick();
      const reviewed = (await agent.auditRecords()).filter((record) => record.action_type === 'review_queued' && record.target === big);
      assert.deepEqual(reviewed.map((record) => record.parameters['reason']), ['processing_failed']);
      assert.equal(reviewed[0]?.parameters['unreadable'], true);
    });

    test('past the day\'s model budget messages wait, unread by the model, none sent to review, whatever the passes', async () => {
      const agent = await fresh({ modelDailyBudgetUsd: 0 });
      const waiting = [
        await mailbox.seed({ from: KNOWN, subject: 'Invoice B1', text: 'We received the invoice B1.' }),
        await mailbox.seed({ from: KNOWN, subject: 'Invoice B2', text: 'We received the invoice B2.' }),
      ];
      const modelCallsBefore = anthropic.received.length;
      for (let pass = 0; pass < 6; pass++) await agent.runtime.tick();
      const records = await agent.auditRecords();
      assert.equal(anthropic.received.length, modelCallsBefore, 'no request reached the model');
      assert.equal(count(records, 'review_queued'), 0, 'waiting for the budget is not a failure of the message');
      assert.equal(records.filter((record) => record.action_type === 'pause' && record.parameters['reason'] === 'model_budget').length, 1, 'the budget pause is recorded once');
      assert.equal(await agent.metric('agent_llm_budget_exhausted'), 1);
      const review = (await agent.call('GET', '/v1/review')).json as { review: unknown[] };
      assert.deepEqual(review.review, []);
      for (const id of waiting) assert.equal(count(records.filter((record) => record.target === id), 'email_draft'), 0);
    });

    test('the daily summary is rendered from the audit log and mailed to the admins', async () => {
      const agent = await fresh();
      await seedInboxOf(mailbox);
      await agent.runtime.tick();
      const records = await agent.auditRecords();
      const summary = await agent.runtime.summary.send('day');
      assert.equal(summary.outcome, 'sent');
      assert.equal(summary.report.read, count(records, 'email_read', 'success'));
      assert.equal(summary.report.drafted, count(records, 'email_draft', 'success'));
      assert.equal(summary.report.sent, 1);
      assert.equal(summary.report.pendingApprovals.length, count(records, 'approval_requested'));
      const cost = records
        .filter((record) => record.action_type === 'llm_call')
        .reduce((sum, record) => sum + Number(record.parameters['cost_usd']), 0);
      assert.ok(Math.abs(summary.report.llm.costUsd - cost) < 1e-6);
      assert.ok(summary.report.pendingApprovals.every((entry) => summary.text.includes(`- ${entry.id}: `)) && !/fleet approvals/.test(summary.text), 'each pending approval listed; the client is sent to the portal, not a CLI');
      assert.match(summary.text, /Emails read: 6/);
      assert.match(summary.html, /<h1[ >]/);
      const mail = mailbox.sent().find((candidate) => candidate.to.includes(ADMIN));
      assert.ok(mail, 'the summary reached the admin');
      // Gmail carries text and HTML alternatives; Graph keeps one body, the HTML one.
      assert.equal(mail.html, summary.html, 'the HTML summary reached the admin');
      if (kind === 'gmail') assert.match(mail.body, /Waiting for your approval: 4/);
      // Once per local date.
      await agent.runtime.summary.send('day');
      assert.equal(mailbox.sent().filter((candidate) => candidate.to.includes(ADMIN)).length, 1);
      const summaryRecords = (await agent.auditRecords()).filter((record) => record.action_type === 'email_send' && record.actor === 'system');
      assert.equal(summaryRecords.filter((record) => record.result === 'success').length, 1);
    });

    test('a revoked grant pauses the agent, counts an auth failure and alerts the admins once reconnected', async () => {
      const agent = await fresh();
      mailbox.revokeConsent();
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 8', text: 'We received the invoice.' });
      await agent.runtime.tick();
      const status = (await agent.call('GET', '/v1/status')).json as { paused: string | null };
      assert.equal(status.paused, 'auth');
      assert.equal(await agent.metric('agent_paused'), 1);
      assert.ok((await agent.metric('agent_auth_failures_total')) >= 1);
      let records = await agent.auditRecords();
      assert.ok(count(records, 'auth_failure') >= 1);
      const pauses = records.filter((record) => record.action_type === 'pause');
      assert.ok(pauses.some((record) => record.parameters['reason'] === 'auth'));
      assert.equal(records.filter((record) => record.actor === 'system' && record.action_type === 'email_send' && record.result === 'intended').length, 1, 'the alert waits in the outbox');
      // Ops reconnect the mailbox (new consent stored in Vault) and resume.
      await vault.store.writeSecret(agent.id, kind === 'gmail' ? 'gmail' : 'outlook', mailbox.secretValue(agent.config));
      assert.equal((await agent.call('POST', '/v1/resume', { by: 'ops' })).status, 204);
      assert.equal(await agent.metric('agent_paused'), 0);
      const alert = mailbox.sent().find((mail) => mail.to.includes(ADMIN));
      assert.ok(alert, 'the alert reached the admins');
      assert.match(alert.subject, /paused/);
      await agent.runtime.tick();
      records = await agent.auditRecords();
      assert.ok(records.some((record) => record.action_type === 'resume' && record.actor === 'admin:ops'));
      assert.ok(mailbox.sent().some((mail) => mail.to.includes(KNOWN)), 'the waiting message was processed after the resume');
    });

    test('a 429 storm loses nothing and duplicates nothing', async () => {
      const agent = await fresh();
      await mailbox.seed({ from: KNOWN, subject: 'Invoice A', text: 'We received the invoice A.' });
      await mailbox.seed({ from: KNOWN, subject: 'Invoice B', text: 'We received the invoice B.' });
      await mailbox.seed({ from: 'lead2@newco.example', subject: 'Hello', text: 'I am interested.' });
      mailbox.throttle(12, 0);
      for (let round = 0; round < 5; round++) await agent.runtime.tick();
      const sent = mailbox.sent();
      assert.equal(sent.length, 2);
      assert.equal(new Set(sent.map((mail) => mail.idempotencyKey)).size, 2);
      const records = await agent.auditRecords();
      assert.equal(count(records, 'email_read'), 3);
      assert.equal(count(records, 'approval_requested'), 1);
    });

    test('a restart in the middle of a batch processes nothing twice', async () => {
      const agent = await fresh({});
      for (let index = 0; index < 4; index++) {
        await mailbox.seed({ from: KNOWN, subject: `Invoice ${index}`, text: `We received the invoice number ${index}.` });
      }
      // The model falls over after the first two messages: the batch stops part-way.
      let answered = 0;
      anthropic.useScript((request) => {
        answered++;
        if (answered > 4) return { error: { status: 400, type: 'invalid_request_error', message: 'scripted failure' } };
        return inboxScript(request);
      });
      const sequential = agent;
      await sequential.runtime.tick();
      const sentBefore = mailbox.sent().length;
      assert.ok(sentBefore >= 1 && sentBefore < 4, `part of the batch was sent (${sentBefore})`);
      anthropic.useScript(inboxScript);
      const restarted = await agent.restart();
      bed.track(restarted);
      assert.equal(await restarted.introduce(), 204);
      await restarted.runtime.tick();
      const sent = mailbox.sent();
      assert.equal(sent.length, 4);
      assert.equal(new Set(sent.map((mail) => mail.idempotencyKey)).size, 4, 'no message answered twice');
      const records = await restarted.auditRecords();
      assert.equal(count(records, 'email_read'), 4, 'each message read (and audited) once');
      assert.equal(count(records, 'email_draft', 'success'), 4, 'each message drafted once');
    });

    test('a scheduling reply is drafted with the client busy times from the calendar, read through the gate and audited', async () => {
      const agent = await fresh({
        permissions: { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true, 'calendar.read': true },
        timezone: 'Europe/Paris',
        workingHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] },
      });
      const [, tomorrow] = nextWorkingDays(agent.clock.now, agent.config.workingHours, 'Europe/Paris', 2);
      assert.ok(tomorrow !== undefined);
      const busyStart = new Date(tomorrow.start.getTime() + 2 * 3_600_000); // 11:00 Paris time
      mailbox.addBusy(busyStart, new Date(busyStart.getTime() + 90 * 60_000));
      const before = anthropic.received.length;
      await mailbox.seed({ from: KNOWN, subject: 'Meeting', text: 'Can we meet on Thursday?' });
      await mailbox.seed({ from: KNOWN, subject: 'Invoice C', text: 'We received the invoice C.' });
      await agent.runtime.tick();
      const drafts = anthropic.received.slice(before).filter((request) => request.tool_choice?.name !== 'classify_email');
      assert.equal(drafts.length, 2);
      const systemOf = (request: (typeof drafts)[number]) => JSON.stringify(request.system ?? '');
      const withCalendar = drafts.filter((request) => systemOf(request).includes('busy 11:00-12:30'));
      assert.equal(withCalendar.length, 1, 'only the scheduling reply gets the calendar, in the client time zone');
      assert.match(systemOf(withCalendar[0]!), /times in Europe\/Paris/);
      const reads = (await agent.auditRecords()).filter((record) => record.action_type === 'calendar_read');
      assert.deepEqual(reads.map((record) => record.result), ['success']);
      assert.ok(Number(reads[0]?.parameters['busy_intervals']) >= 1);
    });

    test('without calendar.read a scheduling reply is drafted without the calendar', async () => {
      const agent = await fresh();
      const before = anthropic.received.length;
      await mailbox.seed({ from: KNOWN, subject: 'Meeting', text: 'Can we meet on Friday?' });
      await agent.runtime.tick();
      const draft = anthropic.received.slice(before).find((request) => request.tool_choice?.name !== 'classify_email');
      assert.ok(draft !== undefined, 'the reply was drafted');
      assert.doesNotMatch(JSON.stringify(draft.system ?? ''), /working day/);
      assert.equal(count(await agent.auditRecords(), 'calendar_read'), 0);
    });

    test('dry run runs the whole loop without a single provider write', async () => {
      const agent = await fresh({ dryRun: true });
      const seeded = [
        await mailbox.seed({ from: KNOWN, subject: 'Invoice D', text: 'We received the invoice D.' }),
        await mailbox.seed({ from: 'lead3@newco.example', subject: 'Hi', text: 'I am interested.' }),
      ];
      await agent.runtime.tick();
      assert.equal(mailbox.sent().length, 0);
      if (kind === 'gmail') assert.equal(mailbox.draftCount(), 0);
      const records = await agent.auditRecords();
      assert.equal(count(records, 'email_read'), 2);
      assert.equal(count(records, 'email_draft', 'dry_run'), 2);
      const sends = records.filter((record) => record.action_type === 'email_send' && record.result === 'dry_run');
      assert.equal(sends.length, 2);
      assert.ok(sends.some((record) => record.parameters['would_decide'] === 'allow'));
      assert.ok(sends.some((record) => record.parameters['would_decide'] === 'needs_approval'));
      assert.equal(((await agent.call('GET', '/v1/approvals')).json as { approvals: unknown[] }).approvals.length, 0);
      assert.equal(count(records, 'email_label', 'dry_run'), 2, 'the labels are recorded');
      assert.equal(count(records, 'email_label', 'success'), 0);
      for (const id of seeded) assert.deepEqual(mailbox.labelsOf(id), [], 'nothing is labelled in dry run');
    });
  });
}
