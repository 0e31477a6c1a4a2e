import { randomUUID } from 'node:crypto';
import { createApproval, type ApprovalResult, type NewApproval } from '../../domain/approval.ts';
import { approvalRequested } from '../../domain/audit-events.ts';
import { blockedAmong } from '../../domain/policy/approval-coverage.ts';
import type { PolicyDecision } from '../../domain/policy/decision.ts';
import { outboundRecipients, parseProposedAction, type ProposedAction } from '../../domain/policy/proposed-action.ts';
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

/**
 * The recipients of the held actions that the block list of the settings the decision was made under
 * matches: the approver is told they are blocked, and the approval covers them (and no others) later.
 * None recorded when those settings are no longer the ones in force (nothing then says who they blocked).
 */
export function blockedShown(context: RuntimeContext, decision: PolicyDecision, actions: readonly ProposedAction[]): Pick<StoredApproval, 'blockedRecipients'> {
  const applied = context.settings.current();
  if (decision.settingsVersion !== applied.version) return {};
  return { blockedRecipients: blockedAmong(applied.config.blockList, actions.flatMap(outboundRecipients)) };
}

/**
 * Asks again about an approved action the gate now holds (a recipient blocked since it was approved): the
 * same approved arguments, and what goes with them, on a new approval superseding the old one, listing the
 * reasons the gate gives now. False when they no longer make an approval.
 */
export async function askAgainHeld(context: RuntimeContext, entry: StoredApproval, decision: PolicyDecision): Promise<boolean> {
  const { record: old } = entry;
  const created = approvalRecordFor(context, {
    id: newApprovalId(),
    actionKind: old.actionKind,
    arguments: old.approvedArguments,
    ...(old.companions === undefined ? {} : { companions: old.companions.map((companion) => companion.arguments) }),
    policyReasons: decision.reasons,
  });
  if (!created.ok) return false;
  const { record } = created;
  const actions = [record.proposedArguments, ...(record.companions ?? []).map((companion) => companion.arguments)].flatMap((value) => {
    const parsed = parseProposedAction(value);
    return parsed.ok ? [parsed.action] : [];
  });
  await requestApproval(
    context,
    {
      record,
      idempotencyKey: entry.idempotencyKey,
      messageId: entry.messageId,
      draftId: entry.draftId,
      preview: entry.preview,
      ...(decision.settingsVersion === undefined ? {} : { settingsVersion: decision.settingsVersion }),
      ...blockedShown(context, decision, actions),
    },
    {
      to: entry.preview.to,
      parameters: {
        approval_id: record.id,
        idempotency_key: entry.idempotencyKey,
        kind: record.actionKind,
        reasons: [...decision.reasons],
        expires_at: record.expiresAt,
        arguments_hash: record.proposedHash,
        settings_version: decision.settingsVersion ?? null,
        supersedes: old.id,
      },
    },
  );
  return true;
}
