import { domainOf, normaliseAddress } from '@agent-fleet/kernel/email-address';
import { parseAuthenticationResults, type AuthResult, type AuthenticationResults } from './authentication-results.ts';
import { asciiDomain, relaxedAligned } from './organisational-domain.ts';

/**
 * Is the From address authenticated? Decided only on the verdict the receiving provider wrote:
 *
 * Which header is trusted. A receiving server prepends its Authentication-Results above every header the
 * sender wrote (RFC 8601 §5), so of the headers in the provider's own form the topmost is the provider's;
 * copies a sender forged sit lower and are ignored, and so is every other server's header.
 *   - Gmail: authserv-id `mx.google.com`.
 *   - Microsoft 365 (Exchange Online Protection): EOP stamps the header with no authserv-id at all (its
 *     value starts with `spf=`; see the "Authentication-results message header" section of Microsoft's
 *     "Anti-spam message headers in Microsoft 365"), so its form is "no authserv-id". The `ARC-` and
 *     `Authentication-Results-Original` headers are other header names and never read.
 * Graph's `internetMessageHeaders` and the raw Gmail message both list headers top first.
 *
 * The rule (RFC 7489): DMARC pass for the From domain; or, when the domain publishes no DMARC policy
 * (`dmarc=none`, Microsoft's `bestguesspass`, or no DMARC result), an SPF or DKIM pass whose domain is
 * relaxed-aligned (same organisational domain) with the From domain. Anything else (fail, temperror,
 * permerror, a DMARC result of any kind for another domain, no trusted header) is not authenticated. Pure.
 */

export type MailProviderKind = 'gmail' | 'outlook';

export type SenderAuthReason =
  | 'dmarc_pass'
  | 'aligned_spf'
  | 'aligned_dkim'
  | 'no_sender'
  | 'no_trusted_header'
  | 'dmarc_fail'
  | 'dmarc_error'
  | 'dmarc_other_domain'
  | 'not_aligned';

export type MethodVerdict = { result: string; domain: string | null };

export type SenderAuthentication = {
  authenticated: boolean;
  reason: SenderAuthReason;
  /** The From domain judged (lower-case ASCII), null when the From address is unusable. */
  fromDomain: string | null;
  /** The verdicts of the trusted header, with their domains; empty when there is none. */
  spf: MethodVerdict[];
  dkim: MethodVerdict[];
  dmarc: (MethodVerdict & { policy: string | null })[];
};

const GOOGLE_AUTHSERV_ID = 'mx.google.com';

/**
 * The form a header value is written in, read from its start alone, so that a value which does not parse
 * still has one: Google's starts with its authserv-id and ";", Microsoft's with a `method=` result.
 */
function formOf(value: string): MailProviderKind | null {
  const head = value.replace(/\r?\n[ \t]+/g, ' ').trimStart();
  if (/^mx\.google\.com\s*(?:[;(]|1\b)/i.test(head)) return 'gmail';
  if (/^[a-z0-9][a-z0-9_.-]*(?:\/\d+)?\s*=/i.test(head)) return 'outlook';
  return null;
}

/**
 * The provider's own header among the values given (topmost first), parsed; null when there is none, or
 * when the topmost one in the provider's form does not parse. Skipping that one would hand the verdict
 * to a copy the sender forged lower down, and the sender can make the provider's header unparseable
 * (a quote or parenthesis in a DKIM `i=` or envelope address, dozens of signatures): fail closed.
 */
export function trustedAuthenticationResults(values: readonly string[], provider: MailProviderKind): AuthenticationResults | null {
  for (const value of values) {
    const parsed = parseAuthenticationResults(value);
    const form = parsed === null ? formOf(value) : parsed.authservId === GOOGLE_AUTHSERV_ID ? 'gmail' : parsed.authservId === null ? 'outlook' : null;
    if (form === provider) return parsed;
  }
  return null;
}

/** The domain part of `user@domain`, `@domain` or `domain`. */
function domainPart(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  return asciiDomain(value.slice(value.lastIndexOf('@') + 1));
}

const verdicts = (results: AuthResult[], method: string, domainOfResult: (result: AuthResult) => string | null): MethodVerdict[] =>
  results.filter((result) => result.method === method).map((result) => ({ result: result.result, domain: domainOfResult(result) }));

/** DMARC's published policy from Google's comment `(p=REJECT sp=… dis=…)` or Microsoft's `action=`. */
function dmarcPolicy(result: AuthResult): string | null {
  for (const comment of result.comments) {
    const policy = /(?:^|\s)p=([a-z]+)/i.exec(comment)?.[1];
    if (policy !== undefined) return policy.toLowerCase();
  }
  return result.properties['action']?.toLowerCase() ?? null;
}

const NO_POLICY = new Set(['none', 'bestguesspass']);

/** Decides whether `fromAddress` is authenticated by the provider's Authentication-Results header. */
export function authenticateSender(input: {
  provider: MailProviderKind;
  /** The From address as the message gives it. */
  fromAddress: string | null;
  /** Every Authentication-Results header value of the message, topmost first. */
  authenticationResults: readonly string[];
}): SenderAuthentication {
  const address = input.fromAddress === null ? undefined : normaliseAddress(input.fromAddress);
  const fromDomain = address === undefined ? null : asciiDomain(domainOf(address));
  const empty = { fromDomain, spf: [], dkim: [], dmarc: [] };
  if (fromDomain === null) return { authenticated: false, reason: 'no_sender', ...empty };
  const trusted = trustedAuthenticationResults(input.authenticationResults, input.provider);
  if (trusted === null) return { authenticated: false, reason: 'no_trusted_header', ...empty };

  const spf = verdicts(trusted.results, 'spf', (result) => domainPart(result.properties['smtp.mailfrom']));
  const dkim = verdicts(trusted.results, 'dkim', (result) => domainPart(result.properties['header.d'] || result.properties['header.i']));
  const dmarc = trusted.results
    .filter((result) => result.method === 'dmarc')
    .map((result) => ({ result: result.result, domain: domainPart(result.properties['header.from']), policy: dmarcPolicy(result) }));
  const verdict = (authenticated: boolean, reason: SenderAuthReason): SenderAuthentication => ({ authenticated, reason, fromDomain, spf, dkim, dmarc });

  // Every DMARC result must agree: one failing or erring result outweighs a passing one.
  if (dmarc.some((entry) => entry.result === 'fail')) return verdict(false, 'dmarc_fail');
  if (dmarc.some((entry) => entry.result !== 'pass' && !NO_POLICY.has(entry.result))) return verdict(false, 'dmarc_error');
  // A DMARC result about another From domain, even "no policy", means the provider read the From header
  // differently (`<a@victim> <b@attacker>`): its verdict is not about the address answered here.
  if (dmarc.some((entry) => entry.domain !== null && entry.domain !== fromDomain)) return verdict(false, 'dmarc_other_domain');
  if (dmarc.length > 0 && dmarc.every((entry) => entry.result === 'pass')) {
    return dmarc.every((entry) => entry.domain === fromDomain) ? verdict(true, 'dmarc_pass') : verdict(false, 'dmarc_other_domain');
  }
  if (dmarc.some((entry) => entry.result === 'pass')) return verdict(false, 'dmarc_error');
  // No DMARC policy: an aligned SPF or DKIM pass authenticates the From domain.
  if (spf.some((entry) => entry.result === 'pass' && entry.domain !== null && relaxedAligned(entry.domain, fromDomain))) return verdict(true, 'aligned_spf');
  if (dkim.some((entry) => entry.result === 'pass' && entry.domain !== null && relaxedAligned(entry.domain, fromDomain))) return verdict(true, 'aligned_dkim');
  return verdict(false, 'not_aligned');
}
