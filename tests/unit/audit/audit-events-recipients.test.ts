import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calendarEventWritten } from '../../../agent-image/src/domain/audit-events-calendar.ts';
import { approvalExpired, approvalRequested, recipientsTarget, sendRecord, type AuditEvent } from '../../../agent-image/src/domain/audit-events.ts';
import { contentHash, validateAuditEntry } from '../../../agent-image/src/domain/audit-record.ts';

/** Every recipient a record names: the addresses of its target, then those listed beyond it. */
function namedRecipients(event: AuditEvent): string[] {
  const inTarget = (event.target ?? '').split(', ').filter((part) => !/^\(\+\d+ more\)$/.test(part));
  const beyond = event.parameters['more_recipients'];
  return [...inTarget, ...(Array.isArray(beyond) ? (beyond as string[]) : [])];
}

// 120 addresses of 33 characters: about twice what a target may hold.
const many = Array.from({ length: 120 }, (_, index) => `recipient-number-${String(index).padStart(3, '0')}@example.com`);
const authority = { actor: 'agent', approvalStatus: 'approved', approvedBy: 'human' } as const;

describe('audit events: recipients that do not fit in the target', () => {
  it('a send to more recipients than the target holds names every one, and no cut address', () => {
    const event = sendRecord({ action: 'email_send', authority, recipients: many, parameters: { recipients: many.length }, result: 'intended', contentHash: contentHash('body') });
    assert.deepEqual(validateAuditEntry({ timestamp: '2030-01-01T00:00:00.000Z', content_hash: null, ...event }), []);
    assert.deepEqual(namedRecipients(event), many);
    const beyond = event.parameters['more_recipients'] as string[];
    assert.match(event.target ?? '', new RegExp(`, \\(\\+${beyond.length} more\\)$`), 'the target says how many it leaves out');
  });

  it('approvals and calendar invitations name every recipient too', () => {
    const events = [
      approvalRequested({ to: many, parameters: {} }),
      approvalExpired({ to: many, approvalId: 'ap-1', expiresAt: '2030-01-01T00:00:00.000Z', idempotencyKey: 'af-1' }),
      calendarEventWritten({ operation: 'create', idempotencyKey: 'af-2', attendees: many, parameters: {}, result: 'intended' }),
    ];
    for (const event of events) assert.deepEqual(namedRecipients(event), many, event.action_type);
  });

  it('recipients that fit are the target as before, with nothing added to the parameters', () => {
    const event = sendRecord({ action: 'email_send', authority, recipients: ['ana@example.com', 'bo@example.com'], parameters: {}, result: 'success', contentHash: contentHash('x') });
    assert.equal(event.target, 'ana@example.com, bo@example.com');
    assert.deepEqual(event.parameters, {});
    assert.equal(recipientsTarget(many.slice(0, 3)), many.slice(0, 3).join(', '));
  });
});
