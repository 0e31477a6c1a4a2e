import { canonicalJson, sha256Hex } from '@agent-fleet/kernel/canonical-json';

export { canonicalJson };

/**
 * Approval records keep apart what was proposed, what a human approved and what finally runs. An action
 * executes only if the arguments about to run hash to what was approved; a pending approval past its
 * `expiresAt` is expired, never approved. Decisions come only from authenticated channels (the
 * orchestrator's API on behalf of a client admin, the fleet CLI, the portal), never from email content.
 * All functions are pure and return new records.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Lifecycle: pending → approved | edited (approved with changed arguments) | rejected | expired. */
export type ApprovalStatus = 'pending' | 'approved' | 'edited' | 'rejected' | 'expired';

/** Where a decision may come from. Email content is deliberately not a channel. */
export const APPROVAL_CHANNELS = ['orchestrator-api', 'fleet-cli', 'portal'] as const;
export type ApprovalChannel = (typeof APPROVAL_CHANNELS)[number];

export type ApprovalDecision = {
  outcome: 'approve' | 'edit' | 'reject';
  /** Authenticated identity of the admin who decided. */
  by: string;
  via: ApprovalChannel;
  /** ISO 8601. */
  at: string;
  /** Required for a rejection. */
  reason?: string;
};

export type ApprovalRecord = Readonly<{
  id: string;
  /** The proposed action's kind, e.g. `mail.send`. */
  actionKind: string;
  /** Policy reasons that required the approval (for the approver and the audit log). */
  policyReasons: readonly string[];
  proposedArguments: JsonValue;
  /** `sha256:<hex>` of the canonical JSON of `proposedArguments`. */
  proposedHash: string;
  status: ApprovalStatus;
  decision?: ApprovalDecision;
  /** What the human approved: the proposal, or the edited arguments. */
  approvedArguments?: JsonValue;
  approvedHash?: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; after it a pending approval is expired. */
  expiresAt: string;
  /**
   * Actions approved together with this one, shown with it and run with it (a scheduling reply's calendar
   * event): approving the record approves them as proposed; rejecting it, or its expiry, runs none.
   */
  companions?: readonly ApprovalCompanion[];
}>;

/** An action that rides on an approval: its arguments and their hash, fixed when the approval was created. */
export type ApprovalCompanion = Readonly<{ arguments: JsonValue; hash: string }>;

export type ApprovalError =
  | 'not_pending'
  | 'expired'
  | 'reason_required'
  | 'untrusted_channel'
  | 'decider_required'
  | 'not_json'
  | 'kind_changed';

export type ApprovalResult = { ok: true; record: ApprovalRecord } | { ok: false; error: ApprovalError };

/** `sha256:<hex>` of the canonical JSON of the arguments. */
export function hashArguments(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}

function toJson(value: unknown): JsonValue | undefined {
  try {
    return JSON.parse(canonicalJson(value)) as JsonValue;
  } catch {
    return undefined;
  }
}

function kindOf(value: JsonValue): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value['kind'] : undefined;
}

export type NewApproval = {
  id: string;
  actionKind: string;
  /** The parsed, normalised action (what the gate evaluated). */
  arguments: unknown;
  policyReasons?: readonly string[];
  now: Date;
  /** From the client config's `approvalTimeoutHours`. */
  timeoutHours: number;
  /** Parsed, normalised actions approved together with this one (see ApprovalRecord.companions). */
  companions?: readonly unknown[];
};

export function createApproval(input: NewApproval): ApprovalResult {
  const proposed = toJson(input.arguments);
  if (proposed === undefined) return { ok: false, error: 'not_json' };
  const companions: ApprovalCompanion[] = [];
  for (const companion of input.companions ?? []) {
    const json = toJson(companion);
    if (json === undefined) return { ok: false, error: 'not_json' };
    companions.push({ arguments: json, hash: hashArguments(json) });
  }
  return {
    ok: true,
    record: {
      id: input.id,
      actionKind: input.actionKind,
      policyReasons: [...(input.policyReasons ?? [])],
      proposedArguments: proposed,
      proposedHash: hashArguments(proposed),
      status: 'pending',
      createdAt: input.now.toISOString(),
      expiresAt: new Date(input.now.getTime() + input.timeoutHours * 3_600_000).toISOString(),
      ...(companions.length === 0 ? {} : { companions }),
    },
  };
}

/**
 * The approval as it applies to its `index`th companion: the same decision, with the companion's
 * arguments and hash as the approved ones (so `authorizesExecution` checks what runs against what was
 * shown). Undefined when there is no such companion or the record is not approved.
 */
export function companionApproval(record: ApprovalRecord, index: number): ApprovalRecord | undefined {
  const companion = record.companions?.[index];
  if (companion === undefined || (record.status !== 'approved' && record.status !== 'edited')) return undefined;
  const { companions: _all, ...rest } = record;
  return { ...rest, approvedArguments: companion.arguments, approvedHash: companion.hash };
}

/** The status as of `now`: a pending approval past its expiry is expired. */
export function approvalStatusAt(record: ApprovalRecord, now: Date): ApprovalStatus {
  if (record.status === 'pending' && now.getTime() >= Date.parse(record.expiresAt)) return 'expired';
  return record.status;
}

/** Marks a pending approval expired when its time has come (for the audit log and the metric). */
export function expireApproval(record: ApprovalRecord, now: Date): ApprovalResult {
  if (approvalStatusAt(record, now) !== 'expired' || record.status === 'expired') return { ok: false, error: 'not_pending' };
  return { ok: true, record: { ...record, status: 'expired' } };
}

export type DecisionInput = { by: string; via: string; now: Date };

function checkDecidable(record: ApprovalRecord, input: DecisionInput): ApprovalError | undefined {
  if (!(APPROVAL_CHANNELS as readonly string[]).includes(input.via)) return 'untrusted_channel';
  if (input.by.trim().length === 0) return 'decider_required';
  const status = approvalStatusAt(record, input.now);
  if (status === 'expired') return 'expired';
  if (status !== 'pending') return 'not_pending';
  return undefined;
}

function decision(outcome: ApprovalDecision['outcome'], input: DecisionInput, reason?: string): ApprovalDecision {
  const base = { outcome, by: input.by.trim(), via: input.via as ApprovalChannel, at: input.now.toISOString() };
  return reason === undefined ? base : { ...base, reason };
}

export function approve(record: ApprovalRecord, input: DecisionInput): ApprovalResult {
  const error = checkDecidable(record, input);
  if (error !== undefined) return { ok: false, error };
  return {
    ok: true,
    record: {
      ...record,
      status: 'approved',
      decision: decision('approve', input),
      approvedArguments: record.proposedArguments,
      approvedHash: record.proposedHash,
    },
  };
}

/** Approves changed arguments (same action kind); what runs must then hash to the edited arguments. */
export function approveEdited(record: ApprovalRecord, input: DecisionInput & { arguments: unknown }): ApprovalResult {
  const error = checkDecidable(record, input);
  if (error !== undefined) return { ok: false, error };
  const edited = toJson(input.arguments);
  if (edited === undefined) return { ok: false, error: 'not_json' };
  if (kindOf(edited) !== kindOf(record.proposedArguments)) return { ok: false, error: 'kind_changed' };
  return {
    ok: true,
    record: {
      ...record,
      status: 'edited',
      decision: decision('edit', input),
      approvedArguments: edited,
      approvedHash: hashArguments(edited),
    },
  };
}

export function reject(record: ApprovalRecord, input: DecisionInput & { reason: string }): ApprovalResult {
  const error = checkDecidable(record, input);
  if (error !== undefined) return { ok: false, error };
  const reason = input.reason.trim();
  if (reason.length === 0) return { ok: false, error: 'reason_required' };
  return { ok: true, record: { ...record, status: 'rejected', decision: decision('reject', input, reason) } };
}

export type ExecutionCheck =
  | { ok: true }
  | { ok: false; reason: 'pending' | 'rejected' | 'expired' | 'hash_mismatch' | 'not_json' };

/** Whether these exact arguments may run under this approval. */
export function authorizesExecution(record: ApprovalRecord, args: unknown, now: Date): ExecutionCheck {
  const status = approvalStatusAt(record, now);
  if (status === 'pending' || status === 'rejected' || status === 'expired') return { ok: false, reason: status };
  let hash: string;
  try {
    hash = hashArguments(args);
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  return hash === record.approvedHash ? { ok: true } : { ok: false, reason: 'hash_mismatch' };
}
