import { domainToASCII } from 'node:url';
import { getDomain } from 'tldts';

/**
 * DMARC's organisational domain (RFC 7489 §3.2): the registrable domain under the Public Suffix List,
 * private section included, so `a.github.io` and `b.github.io` are different organisations and
 * `victim.co.uk` is never aligned with `evil.co.uk`. Pure.
 */

/** Lower-case ASCII (punycode) form of a domain; null when it is not a domain name. */
export function asciiDomain(domain: string): string | null {
  const trimmed = domain.trim().replace(/\.$/, '');
  if (trimmed === '' || trimmed.length > 253) return null;
  const ascii = domainToASCII(trimmed).toLowerCase();
  return ascii === '' || !/^[a-z0-9.-]+$/.test(ascii) || !ascii.includes('.') ? null : ascii;
}

/** The organisational domain; the domain itself when it has no registrable part (e.g. a bare suffix). */
export function organisationalDomain(domain: string): string | null {
  const ascii = asciiDomain(domain);
  if (ascii === null) return null;
  return getDomain(ascii, { allowPrivateDomains: true }) ?? ascii;
}

/** Relaxed alignment (RFC 7489 §3.1): the two domains share an organisational domain. */
export function relaxedAligned(a: string, b: string): boolean {
  const left = organisationalDomain(a);
  const right = organisationalDomain(b);
  return left !== null && left === right;
}
