import type { ApprovalDetail, ApprovalState, DraftMessage } from '../client-gateway.ts';

/** One approval as the agent's control API lists it (`GET /v1/approvals`, agent-image/CONTROL-API.md). */
export interface AgentApproval {
  id: string;
  status: ApprovalState;
  action: string;
  reasons: string[];
  createdAt: string;
  expiresAt: string;
  decision: { outcome: 'approve' | 'edit' | 'reject'; by: string; at?: string; reason?: string } | null;
  recipients: string[];
  cc: string[];
  subject: string;
  arguments: unknown;
}

const MESSAGE_KINDS = new Set(['mail.send', 'mail.draft']);

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The whole draft of a message action, from the proposed arguments the gate evaluated. */
export function draftOf(action: string, args: unknown): DraftMessage | null {
  if (!MESSAGE_KINDS.has(action) || typeof args !== 'object' || args === null) return null;
  const fields = args as Record<string, unknown>;
  return {
    to: strings(fields['to']),
    cc: strings(fields['cc']),
    bcc: strings(fields['bcc']),
    subject: typeof fields['subject'] === 'string' ? fields['subject'] : '',
    body: typeof fields['body'] === 'string' ? fields['body'] : '',
  };
}

export function toApprovalDetail(entry: AgentApproval): ApprovalDetail {
  return {
    id: entry.id,
    state: entry.status,
    action: entry.action,
    recipients: entry.recipients,
    subject: entry.subject,
    reasons: entry.reasons,
    createdAt: entry.createdAt,
    expiresAt: entry.expiresAt,
    draft: draftOf(entry.action, entry.arguments),
    arguments: entry.arguments,
    // The agent's API does not give the thread yet (see the portal README, "agent side").
    thread: [],
    decision: entry.decision
      ? {
          outcome: entry.decision.outcome,
          by: entry.decision.by,
          at: entry.decision.at ?? null,
          reason: entry.decision.reason ?? null,
        }
      : null,
  };
}

/** The edited action: the proposal with the admin's recipients, subject and body (kind, bcc, thread kept). */
export function editedArguments(
  original: unknown,
  draft: Pick<DraftMessage, 'to' | 'cc' | 'subject' | 'body'>,
): Record<string, unknown> {
  const base = typeof original === 'object' && original !== null ? (original as Record<string, unknown>) : {};
  return { ...base, to: draft.to, cc: draft.cc, subject: draft.subject, body: draft.body };
}
