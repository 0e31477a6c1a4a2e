// A pending approval as the portal's gateway hands it over, for tests of the approval pages.
import type { ApprovalDetail } from '../../orchestrator/src/portal/client-gateway.ts';
import { draftOf } from '../../orchestrator/src/portal/gateway/approval-mapping.ts';

/** The pending approval `id` of sending `proposed`, held for a new contact, with nothing decided yet. */
export function pendingMailSend(id: string, proposed: { to: string[]; subject: string }): ApprovalDetail {
  return {
    id,
    state: 'pending',
    action: 'mail.send',
    recipients: proposed.to,
    subject: proposed.subject,
    reasons: ['new_contact'],
    createdAt: '2026-03-10T10:00:00.000Z',
    expiresAt: '2026-03-13T10:00:00.000Z',
    draft: draftOf('mail.send', proposed),
    arguments: proposed,
    thread: [],
    threadAvailable: true,
    signals: [],
    sender: null,
    decision: null,
  };
}
