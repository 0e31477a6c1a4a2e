/**
 * Gmail's own address equivalence: it ignores dots in the local part of gmail.com addresses
 * (`c.e.o@gmail.com` is `ceo@gmail.com`), delivers `user+tag` to `user`, and treats googlemail.com as
 * gmail.com. A provider rule, true of those two domains only: elsewhere a dot is part of the mailbox
 * name (`j.doe@acme.com` and `jdoe@acme.com` are two people). Pure.
 */

const GMAIL = 'gmail.com';
const GMAIL_DOMAINS: ReadonlySet<string> = new Set([GMAIL, 'googlemail.com']);

/** The domain Gmail delivers a domain's mail as: gmail.com for googlemail.com, any other unchanged. */
export function gmailDomain(domain: string): string {
  return GMAIL_DOMAINS.has(domain) ? GMAIL : domain;
}

/**
 * The one mailbox a lower-cased gmail.com or googlemail.com address reaches (`ceo@gmail.com` for
 * `C.E.O+news@googlemail.com` lower-cased); null for an address at any other domain.
 */
export function gmailMailbox(address: string): string | null {
  const at = address.lastIndexOf('@');
  if (at <= 0 || !GMAIL_DOMAINS.has(address.slice(at + 1))) return null;
  const local = address.slice(0, at);
  const plus = local.indexOf('+');
  const mailbox = (plus === -1 ? local : local.slice(0, plus)).replaceAll('.', '');
  return mailbox === '' ? null : `${mailbox}@${GMAIL}`;
}
