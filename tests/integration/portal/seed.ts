import type { MemoryClientGateway } from './memory-client-gateway.ts';

const HOUR = 3_600_000;

/** A day of plausible activity for a client: reads, drafts, sends, approvals, a denial; and support requests. */
export function seedClientData(gateway: MemoryClientGateway, clientId: string, now: Date): void {
  const state = gateway.clients.get(clientId);
  if (!state) throw new Error(`no client ${clientId}`);
  const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * HOUR).toISOString();
  const rows: [number, string, string, string | null, string][] = [
    [30, 'email_read', 'agent', 'msg-1001', 'success'],
    [29.5, 'email_draft', 'agent', 'client@example.com', 'success'],
    [29, 'approval_requested', 'agent', 'ap-1', 'pending'],
    [28, 'approval_decided', 'admin:admin@acme.com', 'ap-1', 'success'],
    [27.9, 'email_send', 'agent', 'client@example.com', 'success'],
    [6, 'email_read', 'agent', 'msg-1002', 'success'],
    [5.5, 'policy_denied', 'agent', 'attacker@evil.example', 'denied'],
    [5, 'email_read', 'agent', 'msg-1003', 'success'],
    [4, 'email_draft', 'agent', 'new.contact@partner.example', 'success'],
    [3.9, 'approval_requested', 'agent', 'ap-2', 'pending'],
    [2, 'email_send', 'agent', 'supplier@example.com', 'success'],
  ];
  state.audit = rows.map(([hoursAgo, type, actor, target, result], index) => ({
    seq: index + 1,
    at: at(hoursAgo),
    type,
    actor,
    target,
    result,
    approval: type.startsWith('approval') ? 'pending' : 'not_required',
  }));
  state.support = [
    {
      id: 'sg-0123456789abcdef',
      member: 'ops.jane',
      incident: 'INC-42',
      reason: 'Replies to the client go out twice; need to read the outbox log',
      hours: 4,
      requestedAt: at(1),
      state: 'pending',
      approvedBy: null,
      expiresAt: null,
    },
    {
      id: 'sg-fedcba9876543210',
      member: 'ops.sam',
      incident: 'INC-17',
      reason: 'Calendar sync stalled',
      hours: 2,
      requestedAt: at(200),
      state: 'expired',
      approvedBy: 'admin@acme.com',
      expiresAt: at(197),
    },
  ];
  state.parked = [
    { messageId: '18e4a1f2c3d4b5a6', reason: 'low_confidence', since: at(26), sender: 'maria.lopez@example.com', subject: 'Question about the March invoice', retried: false },
    { messageId: '18e4a1f2c3d4b5a7', reason: 'model_call_limit', since: at(3), sender: null, subject: 'Re: Delivery next week?', retried: true },
  ];
}
