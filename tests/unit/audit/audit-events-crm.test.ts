import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  crmLastContactUpdated,
  crmLookup,
  crmNoteWritten,
  crmPaused,
  crmRecordRead,
  crmResumed,
} from '../../../agent-image/src/domain/audit-events-crm.ts';
import type { AuditEvent } from '../../../agent-image/src/domain/audit-events.ts';
import { contentHash, validateAuditEntry } from '../../../agent-image/src/domain/audit-record.ts';

const contact = { entity: 'ClientContact', id: '4711' };

function valid(event: AuditEvent): void {
  const problems = validateAuditEntry({ timestamp: '2030-01-01T00:00:00.000Z', content_hash: null, ...event });
  assert.deepEqual(problems, []);
}

describe('CRM audit events', () => {
  it('a lookup and a record read are crm_read by the agent, targeting the address or the record', () => {
    const lookup = crmLookup({ provider: 'bullhorn', address: 'dana@customer.example', found: contact, result: 'success' });
    valid(lookup);
    assert.equal(lookup.action_type, 'crm_read');
    assert.equal(lookup.target, 'dana@customer.example');
    assert.deepEqual(lookup.parameters, { provider: 'bullhorn', operation: 'find_person', found: true, record: 'ClientContact/4711' });
    const missing = crmLookup({ provider: 'bullhorn', address: 'x@y.example', found: null, result: 'success' });
    assert.deepEqual(missing.parameters['record'], null);
    const read = crmRecordRead({ provider: 'bullhorn', person: contact, activityCount: 3, result: 'success' });
    valid(read);
    assert.equal(read.target, 'ClientContact/4711');
    assert.equal(read.approved_by, null);
  });

  it('a note is crm_write with its text hashed, never stored; the approval it rode on is kept', () => {
    const text = 'Email sent: Re: Offer\n\nSent the offer letter.';
    const intended = crmNoteWritten({ provider: 'bullhorn', person: contact, idempotencyKey: 'send:1:crm', noteText: text, result: 'intended' });
    valid(intended);
    assert.equal(intended.action_type, 'crm_write');
    assert.equal(intended.approved_by, 'policy');
    assert.equal(intended.content_hash, contentHash(text));
    assert.doesNotMatch(JSON.stringify(intended), /offer letter/);
    const done = crmNoteWritten({
      provider: 'bullhorn',
      person: contact,
      idempotencyKey: 'send:1:crm',
      noteText: text,
      result: 'success',
      noteId: '90001',
      created: true,
      authority: { actor: 'admin:ops', approvalStatus: 'approved', approvedBy: 'admin:ops' },
    });
    valid(done);
    assert.deepEqual(done.parameters, { provider: 'bullhorn', operation: 'append_note', idempotency_key: 'send:1:crm', note_id: '90001', created: true });
    assert.equal(done.approval_status, 'approved');
    assert.equal(done.actor, 'admin:ops');
  });

  it('last-contact updates, and the CRM pause and resume, are valid records', () => {
    const update = crmLastContactUpdated({ provider: 'bullhorn', person: contact, at: new Date('2030-01-02T03:04:05Z'), written: false, result: 'success' });
    valid(update);
    assert.deepEqual(update.parameters, { provider: 'bullhorn', operation: 'update_last_contact', at: '2030-01-02T03:04:05.000Z', written: false });
    const pause = crmPaused({ provider: 'bullhorn', reason: 'crm_auth_revoked', detail: 'x'.repeat(400) });
    valid(pause);
    assert.equal(pause.target, 'crm');
    assert.equal(String(pause.parameters['detail']).length, 300);
    const byAdmin = crmResumed({ provider: 'bullhorn', by: 'ops' });
    valid(byAdmin);
    assert.equal(byAdmin.actor, 'admin:ops');
    assert.equal(crmResumed({ provider: 'bullhorn', by: 'system' }).approved_by, null);
  });
});
