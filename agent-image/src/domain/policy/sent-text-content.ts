import { comparableAddress } from './ascii-domain.ts';
import { decodeCharacterReferences, htmlReadings } from './html-text.ts';

/**
 * What text the model wrote and the provider sends in the client's name with no template behind it (a
 * calendar invitation, update notice or cancellation message) must not carry beyond links (link-host.ts):
 * the email address of someone the client does not know. "Send the payment details to
 * billing@pay-desk.example" is how injected text turns the client's own contacts towards its author, as a
 * link is. Addresses of known contacts, of the client and of the people written to stay. Addresses are
 * looked for in the text as a reader's app folds it (full-width `＠` and `．`) and as HTML shows it (an event's
 * description is HTML at Google: `eve&#64;evil.com` and `eve@evil<b></b>.com` show as eve@evil.com). Hidden characters are left
 * as they are: soft hyphens and zero-width spaces come with ordinary pasted text, and every reader of an
 * event's text is a known contact or held as a new one. Invisible text is not (invisibleTextIn). Pure.
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
  if (!text.includes('@') && !text.includes('\uff20') && !text.includes('\ufe6b') && !text.includes('&')) return undefined;
  for (const reading of htmlReadings(text)) {
    const found = unknownAddressInReading(reading, isKnown);
    if (found !== undefined) return found;
  }
  return undefined;
}

function unknownAddressInReading(text: string, isKnown: (address: string) => boolean): string | undefined {
  const folded = decodeCharacterReferences(text.normalize('NFKC')).normalize('NFKC').replace(INVISIBLE, '').replace(HOST_DOTS, '.');
  for (let at = folded.indexOf('@'); at !== -1; at = folded.indexOf('@', at + 1)) {
    const local = LOCAL_PART_END.exec(folded.slice(Math.max(0, at - MAX_LOCAL_PART), at))?.[0]?.replace(/^[.'`]+/, '');
    const domain = DOMAIN_START.exec(folded.slice(at + 1, at + 1 + MAX_DOMAIN))?.[0]?.replace(/[.-]+$/, '');
    if (local === undefined || local === '' || domain === undefined || !HAS_SUFFIX.test(domain)) continue;
    const address = comparableAddress(`${local}@${domain}`);
    if (!isKnown(address)) return address;
  }
  return undefined;
}

/**
 * Unicode tag characters: each is an ASCII character (U+E0041 is "A") that no app shows but a model reading
 * the text takes in, so a run of them is a sentence no reader sees: injected instructions riding an
 * invitation to the assistants of the people invited. Ordinary text holds them only in the flags of
 * England, Scotland and Wales (a black flag, a short subdivision code, a cancel tag).
 */
const TAG_CHARACTER = /[\u{E0000}-\u{E007F}]/u;
const FLAG_TAG_SEQUENCE = /\u{1F3F4}[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{1,7}\u{E007F}/gu;

/** Whether the text carries text no reader sees (tag characters outside a flag); linear. */
export function invisibleTextIn(text: string): boolean {
  return TAG_CHARACTER.test(text) && TAG_CHARACTER.test(text.replace(FLAG_TAG_SEQUENCE, ''));
}
