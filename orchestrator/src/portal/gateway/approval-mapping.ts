import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type {
  ApprovalDecision,
  ApprovalDetail,
  ApprovalState,
  ApprovalSummary,
  DraftMessage,
  ThreadMessage,
} from '../client-gateway.ts';

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

/** A listed approval (`GET /v1/approvals`), for the approvals page. */
export function toApprovalSummary(entry: AgentApproval): ApprovalSummary {
  return {
    id: entry.id,
    state: entry.status,
    action: entry.action,
    recipients: entry.recipients,
    subject: entry.subject,
    reasons: entry.reasons,
    createdAt: entry.createdAt,
    expiresAt: entry.expiresAt,
  };
}

/** One approval as the agent's `GET /v1/approvals/:id` answers (agent-image/CONTROL-API.md). */
export interface AgentApprovalView {
  id: string;
  status: ApprovalState;
  action: string;
  reasons: string[];
  signals: string[];
  sender: { address: string; authenticated: boolean; knownContact: boolean | null } | null;
  createdAt: string;
  expiresAt: string;
  decision: { outcome: 'approve' | 'edit' | 'reject'; by: string; at?: string; reason?: string } | null;
  draft: DraftMessage | null;
  arguments: unknown;
  thread: ThreadMessage[];
  threadAvailable: boolean;
  event?: { title: string; start: string; end: string | null; timeZone: string; attendees: string[] } | null;
  /**
   * The recipients the block list matched when the approval was asked; null or absent on approvals made
   * before they were kept. Agent JSON: read through `blockedRecipientsSchema`, never trusted as typed.
   */
  blockedRecipients?: unknown;
}

/** Bounds as the agent's approval store keeps them: at most 20,000 addresses of at most 1,000 characters. */
export const blockedRecipientsSchema = z.array(z.string().min(1).max(1000)).max(20_000).nullable().optional();

/**
 * The blocked recipients of an agent's approval view, checked: [] when the agent kept none (an older
 * approval). A malformed list is refused rather than dropped, so that an approver is never shown an
 * approval to a blocked address without being told which it is.
 */
function blockedOf(view: AgentApprovalView): string[] {
  const parsed = blockedRecipientsSchema.safeParse(view.blockedRecipients);
  if (!parsed.success) throw new FleetError('integrity', `the agent answered approval ${view.id} with malformed blocked recipients`);
  return parsed.data ?? [];
}

export function toApprovalDetail(view: AgentApprovalView): ApprovalDetail {
  const draft = view.draft ?? draftOf(view.action, view.arguments);
  const blockedRecipients = blockedOf(view);
  return {
    id: view.id,
    state: view.status,
    action: view.action,
    recipients: draft?.to ?? [],
    subject: draft?.subject ?? '',
    reasons: view.reasons,
    signals: view.signals,
    sender: view.sender,
    createdAt: view.createdAt,
    expiresAt: view.expiresAt,
    draft,
    arguments: view.arguments,
    thread: view.thread.map((message) => ({
      from: message.from,
      at: message.at,
      subject: message.subject,
      body: message.body,
      fromCorrespondent: message.fromCorrespondent,
    })),
    threadAvailable: view.threadAvailable,
    event: view.event ?? null,
    blockedRecipients,
    decision: view.decision
      ? {
          outcome: view.decision.outcome,
          by: view.decision.by,
          at: view.decision.at ?? null,
          reason: view.decision.reason ?? null,
        }
      : null,
  };
}

/**
 * The edited action: the proposal with the admin's recipients, subject and body (kind and thread kept).
 * The Bcc is the admin's when the edit gives one (an empty list drops every Bcc the model added), and is
 * kept as proposed only when the edit says nothing of it. Every recipient of the result, Bcc included,
 * is then checked by the agent's gate as the edited action's own, as To and Cc are.
 */
export function editedArguments(
  original: unknown,
  draft: Extract<ApprovalDecision, { decision: 'edit' }>['draft'],
): Record<string, unknown> {
  const base = typeof original === 'object' && original !== null ? (original as Record<string, unknown>) : {};
  const bcc = draft.bcc === undefined ? {} : { bcc: [...draft.bcc] };
  return { ...base, to: draft.to, cc: draft.cc, ...bcc, subject: draft.subject, body: draft.body };
}
