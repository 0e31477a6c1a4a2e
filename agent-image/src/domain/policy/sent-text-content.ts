import { comparableAddress } from './ascii-domain.ts';

/**
 * What text the model wrote and the provider sends in the client's name with no template behind it (a
 * calendar invitation, update notice or cancellation message) must not carry beyond links (link-host.ts):
 * the email address of someone the client does not know. "Send the payment details to
 * billing@pay-desk.example" is how injected text turns the client's own contacts towards its author, as a
 * link is. Addresses of known contacts, of the client and of the people written to stay. Addresses are
 * looked for in the text as a reader's app folds it (full-width `＠` and `．`). Hidden characters are left
 * as they are: soft hyphens and zero-width spaces come with ordinary pasted text, and every reader of an
 * event's text is a known contact or held as a new one. Pure.
 */

/** The longest local part and domain an address may have (RFC 5321): all that is read either side of an `@`. */
const MAX_LOCAL_PART = 64;
const MAX_DOMAIN = 255;
const LOCAL_PART_END = /[\p{L}\p{N}._%+!#$&'*\/=?^`{|}~-]+$/u;
const DOMAIN_START = /^[\p{L}\p{N}.-]+/u;
const HAS_SUFFIX = /[^.]\.[\p{L}\p{N}-]{2,}$/u;
/** Dots a mail app reads as "." in a host name (IDNA maps them). */
const HOST_DOTS = /[\u3002\uff0e\uff61]/g;
/** Characters that show nothing, so a reader sees `eve@evil.com` where the text has a zero-width space in it. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * The first address in the text of someone not known (compared as ascii-domain.ts does); undefined when
 * none. Reads a bounded stretch either side of each `@`, so the work stays linear in the text's length.
 */
export function unknownAddressIn(text: string, isKnown: (address: string) => boolean): string | undefined {
  if (!text.includes('@') && !text.includes('\uff20') && !text.includes('\ufe6b')) return undefined;
  const folded = text.normalize('NFKC').replace(INVISIBLE, '').replace(HOST_DOTS, '.');
  for (let at = folded.indexOf('@'); at !== -1; at = folded.indexOf('@', at + 1)) {
    const local = LOCAL_PART_END.exec(folded.slice(Math.max(0, at - MAX_LOCAL_PART), at))?.[0]?.replace(/^[.'`]+/, '');
    const domain = DOMAIN_START.exec(folded.slice(at + 1, at + 1 + MAX_DOMAIN))?.[0]?.replace(/[.-]+$/, '');
    if (local === undefined || local === '' || domain === undefined || !HAS_SUFFIX.test(domain)) continue;
    const address = comparableAddress(`${local}@${domain}`);
    if (!isKnown(address)) return address;
  }
  return undefined;
}
