/**
 * The one email-address rule of the code base (policy, config, adapters). Addresses are compared lower-cased and trimmed;
 * anything that is not a plain `local@domain` address (display names, comments, IP literals, trailing dots)
 * is rejected rather than guessed at, because a guess is a way round the block list.
 */

const MAX_ADDRESS_LENGTH = 254;
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** The top-level label: letters, or the ASCII (punycode, `xn--`) form of an internationalised one such as .рф. */
const DOMAIN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{0,58}[a-z0-9])$/;
/** Anything outside ASCII, looked for before lower-casing: the Kelvin sign (U+212A) lower-cases to "k". */
const NOT_ASCII = /[^\u0000-\u007f]/;

/** The canonical form of an address, or undefined when it is not a valid address. */
export function normaliseAddress(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (NOT_ASCII.test(trimmed)) return undefined;
  const address = trimmed.toLowerCase();
  if (address.length === 0 || address.length > MAX_ADDRESS_LENGTH) return undefined;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at > 64 || at === address.length - 1) return undefined;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (!LOCAL_PART.test(local) || !DOMAIN.test(domain)) return undefined;
  return address;
}

/**
 * An address as read from mail, compared the way addresses are (trimmed, A-Z lower-cased) but with every
 * other character kept: `String#toLowerCase` turns the Kelvin sign (U+212A) into "k", which would make
 * an address in another script equal to an ASCII one (a known contact, an own address) it is not.
 */
export function foldAddressCase(raw: string): string {
  return foldAsciiCase(raw.trim());
}

/**
 * The text with A-Z lower-cased and every other character kept, untrimmed (the part of foldAddressCase a
 * caller that trims or splits the text itself needs, such as the policy gate's local part).
 */
export function foldAsciiCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** The domain of a normalised address. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** `user+tag@x.com` → `user@x.com`: most providers deliver both to one mailbox. */
export function withoutSubaddress(address: string): string {
  const at = address.lastIndexOf('@');
  const plus = address.indexOf('+');
  if (plus <= 0 || plus > at) return address;
  return address.slice(0, plus) + address.slice(at);
}

/**
 * A plain `user@domain.tld` address exactly as given (no surrounding space, display name, quoting or
 * anything a header could be built from): what adapters accept before putting an address in a message.
 */
export function isEmailAddress(address: string): boolean {
  return address === address.trim() && normaliseAddress(address) !== undefined;
}
