import { secretsEqual } from '@agent-fleet/kernel/secret-compare';
import type { RedirectOutcome } from '../../ports/oauth-consent.ts';

const MAX_PARAM_LENGTH = 4096;

/** The `state` that came back is the one we sent (constant time). */
export const statesMatch = secretsEqual;

/**
 * Reads the provider's redirect (RFC 6749 §4.1.2). The state is checked before anything else: a request
 * without exactly one, matching `state` is a `state-mismatch` whatever else it carries (oversized or
 * repeated parameters included), so nothing a forged request sends is acted upon or can end the flow.
 */
export function interpretRedirect(query: URLSearchParams, expectedState: string): RedirectOutcome {
  const states = query.getAll('state');
  if (states.length !== 1 || !statesMatch(states[0] ?? '', expectedState)) return { kind: 'state-mismatch' };
  for (const [name, value] of query) {
    if (value.length > MAX_PARAM_LENGTH) return { kind: 'malformed', reason: `parameter "${printable(name).slice(0, 40)}" is too long` };
  }
  if (['code', 'error'].some((name) => query.getAll(name).length > 1)) return { kind: 'malformed', reason: 'repeated parameters' };
  const error = query.get('error');
  if (error !== null) return { kind: 'denied', error: printable(error), description: nullablePrintable(query.get('error_description')) };
  const code = query.get('code');
  if (code === null || code === '') return { kind: 'malformed', reason: 'the redirect carries neither a code nor an error' };
  return { kind: 'code', code };
}

function printable(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}

function nullablePrintable(value: string | null): string | null {
  return value === null ? null : printable(value);
}
