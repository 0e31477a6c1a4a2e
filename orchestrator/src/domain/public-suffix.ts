import { getPublicSuffix, parse } from 'tldts';

// The Public Suffix List (through tldts) says where unrelated parties register names side by side: its ICANN
// section holds the registries' zones (`co.uk`, `com.au`, `公司.cn` as `xn--55qx5d.cn`), its private section
// the shared hosting names (`github.io`, `s3.amazonaws.com`, `googleapis.com`). A name is expected lower-case
// ASCII (punycode for IDNs), as `normaliseEgressHost` leaves it.

/** The longest public suffix that `name` ends with, the private section included when `privateSection`. */
const suffixOf = (name: string, privateSection: boolean): string | null => getPublicSuffix(name, { allowPrivateDomains: privateSection });

/**
 * Whether `name` is itself a public suffix of the list's ICANN section: a registry's zone, not a host. A name
 * the list does not know (`localhost`, `corp.internal`) is none, though its last label stands in as its suffix.
 */
export function isRegistrySuffix(name: string): boolean {
  const parsed = parse(name, { allowPrivateDomains: false });
  return parsed.isIcann === true && parsed.publicSuffix === name;
}

/** Whether `name` is itself a public suffix of either section: the names below it belong to many parties. */
export function isPublicSuffix(name: string): boolean {
  return suffixOf(name, true) === name;
}

/**
 * Whether `name`, which lies below `domain`, is registered under a public suffix that is `domain` itself or
 * lies below it (`bucket.s3.amazonaws.com` below `amazonaws.com`): such a name is its registrant's own, not
 * the domain owner's.
 */
export function registeredWithin(name: string, domain: string): boolean {
  const suffix = suffixOf(name, true);
  return suffix !== null && suffix.length >= domain.length;
}
