import { randomUUID } from 'node:crypto';
import { createApproval, type ApprovalResult, type NewApproval } from '../../domain/approval.ts';
import { approvalRequested } from '../../domain/audit-events.ts';
import { publishApprovalGauges, type StoredApproval } from './approval-store.ts';
import type { RuntimeContext } from './runtime-context.ts';

/** How much of a body the approval list shows; the approval page reads the whole proposed arguments. */
export const BODY_PREVIEW_CHARS = 500;

/** A fresh approval id (`ap_` and 20 hex digits) for a request that has no natural one. */
export function newApprovalId(): string {
  return `ap_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
}

/** The approval record of a held action, expiring after the client's approval timeout. */
export function approvalRecordFor(context: RuntimeContext, input: Omit<NewApproval, 'now' | 'timeoutHours'>): ApprovalResult {
  return createApproval({ ...input, now: context.now(), timeoutHours: context.config.approvalTimeoutHours });
}

/**
 * Puts a held action before a human: the audit record saying it was asked (written first, so nothing is
 * pending that the trail does not show), the pending entry the portal lists, and the approval gauges.
 */
export async function requestApproval(
  context: RuntimeContext,
  entry: Omit<StoredApproval, 'execution'>,
  audited: { to: readonly string[]; parameters: Parameters<typeof approvalRequested>[0]['parameters'] },
): Promise<void> {
  await context.audit.append(approvalRequested(audited));
  await context.approvals.put({ ...entry, execution: 'none' });
  publishApprovalGauges(context.metrics, context.approvals, context.now());
}
