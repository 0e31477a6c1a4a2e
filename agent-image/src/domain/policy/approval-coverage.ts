import type { ApprovalRecord } from '../approval.ts';
import { compileBlockList, type BlockListMatcher } from './block-list.ts';
import type { ReasonCode } from './decision.ts';

/**
 * Holds an approval covers only when the approver was shown them: a recipient blocked after the human
 * approved (a new settings version, or an edit that added the recipient) is held again, so the human
 * decides knowing it is blocked. The other holds come from the message itself and were already weighed.
 */
const RECHECKED: ReadonlySet<ReasonCode> = new Set(['blocked_recipient']);

/** What the gate knows, when an action runs under an approval, of the blocked recipients its approver saw. */
export type BlockedCoverage = {
  /** The action's recipients the block list matches now. */
  blocked: readonly string[];
  /** The recipients the approver was shown: the proposal's, and the notified attendees its preview listed. */
  shown: ReadonlySet<string>;
  /**
   * The recipients the block list matched when the approval was asked, as recorded with it: its approver
   * was shown each of them as blocked. When known, a recipient blocked now is covered only if it is one of
   * them, whatever the settings did since (a change that blocks no one new asks nothing again).
   */
  shownBlocked?: ReadonlySet<string>;
  /**
   * The settings in force are not those the approval was asked under (or that is not known). Read only
   * when `shownBlocked` is not known (a record made before it was kept): which of the shown recipients were
   * blocked then is not known either, so none counts as shown blocked.
   */
  settingsChanged: boolean;
};

/**
 * The holds of the action as decided now that the approval was not granted under. Pure. An approval asked
 * because one recipient was blocked covers that recipient, not every blocked one: a recipient blocked now
 * that the approver was not shown, or may not have been shown as blocked, makes `blocked_recipient` uncovered.
 */
export function uncoveredHolds(approval: Pick<ApprovalRecord, 'policyReasons'>, holds: readonly ReasonCode[], coverage: BlockedCoverage): ReasonCode[] {
  return holds.filter((reason) => {
    if (!RECHECKED.has(reason)) return false;
    if (!approval.policyReasons.includes(reason)) return true;
    return reason === 'blocked_recipient' && coverage.blocked.some((address) => !coverage.shown.has(address) || !shownAsBlocked(address, coverage));
  });
}

function shownAsBlocked(address: string, coverage: BlockedCoverage): boolean {
  return coverage.shownBlocked === undefined ? !coverage.settingsChanged : coverage.shownBlocked.has(address);
}

const matchers = new WeakMap<readonly string[], BlockListMatcher>();

/**
 * The recipients a block list matches, to be recorded with an approval asked under it (`shownBlocked`).
 * Pure; the compiled list is kept per list object (a frozen config's), so a settings version compiles once.
 */
export function blockedAmong(blockList: readonly string[], recipients: Iterable<string>): string[] {
  let matcher = matchers.get(blockList);
  if (matcher === undefined) {
    matcher = compileBlockList(blockList);
    matchers.set(blockList, matcher);
  }
  const blocked = new Set<string>();
  for (const address of recipients) if (matcher.match(address) !== undefined) blocked.add(address);
  return [...blocked];
}
