import type { AuditEvent } from '../client-gateway.ts';

/** The fields of an agent audit record (`GET /v1/audit/records`) the portal shows; nothing else. */
interface AgentRecord {
  seq?: unknown;
  timestamp?: unknown;
  action_type?: unknown;
  actor?: unknown;
  target?: unknown;
  result?: unknown;
  approval_status?: unknown;
}

/** One record as the activity page shows it; null for anything that is not an audit record. */
export function auditEventOf(value: unknown): AuditEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as AgentRecord;
  if (
    typeof record.seq !== 'number' ||
    typeof record.timestamp !== 'string' ||
    typeof record.action_type !== 'string'
  )
    return null;
  return {
    seq: record.seq,
    at: record.timestamp,
    type: record.action_type,
    actor: typeof record.actor === 'string' ? record.actor : '',
    target: typeof record.target === 'string' ? record.target : null,
    result: typeof record.result === 'string' ? record.result : '',
    approval: typeof record.approval_status === 'string' ? record.approval_status : '',
  };
}
