import { domainToASCII } from 'node:url';
import { foldAsciiCase, normaliseAddress } from '@agent-fleet/kernel/email-address';

/**
 * The ASCII form IDNA (UTS #46, `node:url` domainToASCII) gives a mail domain: the form mail is delivered
 * to and the one the block list and known contacts are compared in. Every spelling of one domain maps to
 * it: Unicode (`bücher.example`), punycode (`xn--bcher-kva.example`), full-width letters and dots
 * (`ｂüｃｈｅｒ。example`), any case. A domain IDNA refuses comes back lower-cased, never dropped. Pure.
 */
export function asciiDomain(domain: string): string {
  const lower = domain.trim().toLowerCase();
  const ascii = lower === '' ? '' : domainToASCII(lower);
  return ascii === '' ? lower : ascii;
}

/**
 * An address as the gate compares it: its domain (after the last `@`) in ASCII form, ASCII capitals in the
 * local part lower-cased. Other letters of the local part stay as they are: lower-casing would turn some
 * into ASCII (the Kelvin sign into "k") and so pass a mailbox off as a known one. A text without `@` comes
 * back lower-cased. Pure.
 */
export function withAsciiDomain(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  if (at === -1) return trimmed.toLowerCase();
  return `${foldAsciiCase(trimmed.slice(0, at))}@${asciiDomain(trimmed.slice(at + 1))}`;
}

/**
 * An address someone else wrote (an attendee the calendar lists) as the gate compares it: the canonical
 * address once its domain is in ASCII form (`kim@xn--bcher-kva.example` for `Kim@BÜCHER.example`);
 * else, for one that is no plain address (a local part in another script), the text with its domain in
 * that form, which no known contact equals but a domain on the block list still matches. Pure.
 */
export function comparableAddress(raw: string): string {
  const ascii = withAsciiDomain(raw);
  return normaliseAddress(ascii) ?? ascii;
}
