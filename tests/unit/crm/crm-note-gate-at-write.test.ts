// A CRM note owed for a send is written only once the send went, which may be rounds (or a restart) after
// the gate allowed it. The gate is asked again at the write: crm.write taken away meanwhile (or dry run
// turned on) means no note and no last-contact update, the refusal audited and the note closed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEvent } from '../../../agent-image/src/domain/audit-events.ts';
import { CrmNotes, type SentForCrm } from '../../../agent-image/src/services/mail-loop/crm-notes.ts';
import type { CrmWork } from '../../../agent-image/src/services/mail-loop/crm-work.ts';
import type { OutboxEntry } from '../../../agent-image/src/services/outbox/outbox.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';

function bed() {
  const gate = { open: true };
  const calls: string[] = [];
  const audit: AuditEvent[] = [];
  const work = {
    name: 'bullhorn',
    idle: false,
    restorePause: () => undefined,
    allowed: () => (gate.open ? { ok: true, reasons: [], dryRun: false } : { ok: false, reasons: ['crm.write is not permitted'], dryRun: false }),
    resolve: async () => ({ status: 'found', person: { entity: 'Candidate', id: '7' } }),
    attempt: async (what: string) => {
      calls.push(what);
      return { ok: true, value: what === 'note' ? { id: 'n1', created: true } : { written: true } };
    },
  } as unknown as CrmWork;
  const sent = { status: 'sent', createdAt: '2026-12-07T10:00:00.000Z', contentHash: 'sha256:00', message: { subject: 'Your interview' } } as unknown as OutboxEntry;
  const context = {
    config: { permissions: { 'crm.write': true } },
    audit: {
      append: async (event: AuditEvent) => void audit.push(event),
      records: async function* () {},
    },
    outbox: { get: () => sent },
  } as unknown as RuntimeContext;
  return { notes: new CrmNotes(work, context), gate, calls, audit };
}

const send: SentForCrm = { sendKey: 'send-1', recipients: ['kim@partner.example'], emailType: 'reply', authority: { actor: 'agent', approvalStatus: 'auto_approved', approvedBy: 'policy' } };

void test('a note allowed when owed is written when the send went', async () => {
  const { notes, calls } = bed();
  await notes.owe(send);
  await notes.settle();
  assert.deepEqual(calls, ['note', 'last contact']);
  assert.equal(notes.pending, 0);
});

void test('crm.write taken away between the owed note and its write: nothing is written, the refusal is audited, the note closed', async () => {
  const { notes, gate, calls, audit } = bed();
  await notes.owe(send);
  gate.open = false;
  await notes.settle();
  assert.deepEqual(calls, [], 'neither the note nor the last-contact date');
  assert.equal(audit.at(-1)?.action_type, 'policy_denied');
  assert.equal(notes.pending, 0, 'closed, not owed for ever');
  gate.open = true;
  await notes.settle();
  assert.deepEqual(calls, [], 'a closed note is not written later');
});
