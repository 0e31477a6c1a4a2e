import { TEMPLATE_TYPES, type ClientConfig } from '@agent-fleet/kernel/client-config';

/**
 * Graduation to auto-send, measured: for each email type, how the client's admins decided the drafts the
 * agent held for them (approved unchanged, edited, rejected; expired ones are no decision). Auto-send is
 * suggested for a type only with at least 20 decisions of which at least 95 % were approved unchanged,
 * only for a type that can be auto-sent (it has reply templates), and never for a sensitive type.
 * Accepting a suggestion is an ordinary settings change. Pure.
 */

export const GRADUATION_MIN_DECISIONS = 20;
export const GRADUATION_MIN_UNCHANGED = 0.95;

/** The types the spec keeps for a human whatever the history says. */
export const NEVER_SUGGESTED: readonly string[] = ['offer', 'negotiation', 'client_facing', 'sensitive', 'new_contact', 'legal', 'financial', 'complaint'];

export interface TypeDecisions {
  type: string;
  unchanged: number;
  edited: number;
  rejected: number;
  expired: number;
}

export interface GraduationRow extends TypeDecisions {
  decisions: number;
  /** Share approved unchanged, 0–1; null before the first decision. */
  unchangedShare: number | null;
  /** Already auto-sent (in autoSendTypes). */
  autoSend: boolean;
  suggest: boolean;
  /** Why it is (not) suggested, in the client's words. */
  why: string;
}

export function graduationRows(counts: readonly TypeDecisions[], config: Pick<ClientConfig, 'autoSendTypes' | 'alwaysApprovalTypes'>): GraduationRow[] {
  return counts
    .map((count) => {
      const decisions = count.unchanged + count.edited + count.rejected;
      const unchangedShare = decisions === 0 ? null : count.unchanged / decisions;
      const autoSend = (config.autoSendTypes as readonly string[]).includes(count.type);
      const why = reasonFor(count.type, decisions, unchangedShare, autoSend);
      return { ...count, decisions, unchangedShare, autoSend, suggest: why === null, why: why ?? suggestion(decisions, unchangedShare) };
    })
    .sort((a, b) => b.decisions - a.decisions || a.type.localeCompare(b.type));
}

function reasonFor(type: string, decisions: number, share: number | null, autoSend: boolean): string | null {
  if (autoSend) return 'already sent without approval (templates only)';
  if (NEVER_SUGGESTED.includes(type)) return 'always needs your approval: the security policy keeps this type for a human';
  if (!(TEMPLATE_TYPES as readonly string[]).includes(type)) return 'no reply templates exist for this type, so it cannot be sent without approval';
  if (decisions < GRADUATION_MIN_DECISIONS) return `${decisions} of the ${GRADUATION_MIN_DECISIONS} decisions needed before a suggestion`;
  if ((share ?? 0) < GRADUATION_MIN_UNCHANGED) return `${percent(share)} approved unchanged; a suggestion needs ${percent(GRADUATION_MIN_UNCHANGED)}`;
  return null;
}

function suggestion(decisions: number, share: number | null): string {
  return `${percent(share)} of ${decisions} drafts approved unchanged: auto-send (templates only) is suggested`;
}

export function percent(share: number | null): string {
  return share === null ? '–' : `${Math.floor(share * 1000) / 10} %`;
}
