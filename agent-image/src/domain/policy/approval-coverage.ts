import type { ApprovalRecord } from '../approval.ts';
import type { ReasonCode } from './decision.ts';

/**
 * Holds an approval covers only when the approver was shown them: a recipient blocked after the human
 * approved (a new settings version, or an edit that added the recipient) is held again, so the human
 * decides knowing it is blocked. The other holds come from the message itself and were already weighed.
 */
const RECHECKED: ReadonlySet<ReasonCode> = new Set(['blocked_recipient']);

/** The holds of the action as decided now that the approval was not granted under. Pure. */
export function uncoveredHolds(approval: Pick<ApprovalRecord, 'policyReasons'>, holds: readonly ReasonCode[]): ReasonCode[] {
  return holds.filter((reason) => RECHECKED.has(reason) && !approval.policyReasons.includes(reason));
}
