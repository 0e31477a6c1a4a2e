import { redactText } from '@agent-fleet/kernel/logger';

/** Longest failure detail an incident keeps. */
export const MAX_FAILURE_DETAIL = 500;

/**
 * An error's message as an incident keeps it (a containment step's detail, why an evidence part is left
 * out): it reaches the incident record, the ops log, the CLI and the client's post-incident report, so the
 * credentials and address local parts it may echo (a revoke URL with its token, a header) are masked, then
 * it is cut. The mask runs over a margin past the cut, so a credential straddling the cut is masked whole
 * rather than left as a fragment no rule recognises.
 */
export function failureDetail(message: string, max = MAX_FAILURE_DETAIL): string {
  const masked = redactText(message.slice(0, max * 4));
  return masked.length <= max ? masked : `${masked.slice(0, max - 1)}…`;
}
