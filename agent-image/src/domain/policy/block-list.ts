import { domainOf, withoutSubaddress } from '@agent-fleet/kernel/email-address';
import { asciiDomain, withAsciiDomain } from './ascii-domain.ts';
import { gmailDomain, gmailMailbox } from './gmail-address.ts';

/**
 * Block-list matching. Entries are `user@x.com` (one address, also matching `user+tag@x.com`), `x.com`
 * (that domain and every subdomain of it: `a.x.com` matches, `evilx.com` does not) and `*.x.com` (every
 * subdomain of x.com, not x.com itself). A domain entry covers its subdomains because whoever holds x.com
 * holds them all: mail to `ceo@eu.x.com` reaches the same organisation the client named, and a client
 * who blocks a competitor would otherwise have to list each of its mail hosts. The cost of a subdomain the
 * client did not mean is one approval; the cost of missing one is unreviewed mail to the party it blocked.
 * `*.x.com` keeps x.com itself off the list for the rare client that wants exactly that.
 * Compiled once into sets so a lookup is a few hash probes per label. A local part that routes
 * on to another host (`x%rival.com@relay.com`, `rival.com!x@relay.com`, still honoured by some relays)
 * is matched by the hosts it names as well. Gmail addresses match by the mailbox they reach: dots in the
 * local part and a `+tag` aside, googlemail.com as gmail.com (`c.e.o@googlemail.com` matches an entry
 * `ceo@gmail.com`, and the domain entry `gmail.com` covers googlemail.com); only for those two domains.
 * Domains, of entries and addresses alike, are compared in their ASCII (IDNA) form, the one mail is
 * delivered to (ascii-domain.ts): `xn--bcher-kva.example` and `bücher.example` name one domain however
 * either is spelt (Unicode, punycode, full-width, any case), and an entry in one form matches the other.
 */
export type BlockListMatcher = {
  /** The matching entry for a normalised address, or undefined. */
  match(address: string): string | undefined;
};

export function compileBlockList(entries: readonly string[]): BlockListMatcher {
  const addresses = new Set<string>();
  /** Gmail mailbox → the entry that names it. */
  const gmailMailboxes = new Map<string, string>();
  /** Domain as Gmail delivers it → the entry that names it. */
  const domains = new Map<string, string>();
  const subdomainsOf = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (entry.includes('@')) {
      const address = withAsciiDomain(entry);
      addresses.add(address);
      const mailbox = gmailMailbox(address);
      if (mailbox !== null && !gmailMailboxes.has(mailbox)) gmailMailboxes.set(mailbox, address);
    } else if (entry.startsWith('*.')) subdomainsOf.add(asciiDomain(entry.slice(2)));
    else {
      const domain = gmailDomain(asciiDomain(entry));
      if (!domains.has(domain)) domains.set(domain, entry);
    }
  }
  const matchDomain = (spelt: string): string | undefined => {
    const domain = asciiDomain(spelt);
    const exact = domains.get(gmailDomain(domain));
    if (exact !== undefined) return exact;
    for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) {
      const parent = domain.slice(dot + 1);
      const covering = domains.get(gmailDomain(parent));
      if (covering !== undefined) return covering;
      if (subdomainsOf.has(parent)) return `*.${parent}`;
    }
    return undefined;
  };
  return {
    match(given) {
      const address = withAsciiDomain(given);
      if (addresses.has(address)) return address;
      const base = withoutSubaddress(address);
      if (base !== address && addresses.has(base)) return base;
      const mailbox = gmailMailbox(address);
      const sameMailbox = mailbox === null ? undefined : gmailMailboxes.get(mailbox);
      if (sameMailbox !== undefined) return sameMailbox;
      const found = matchDomain(domainOf(address));
      if (found !== undefined) return found;
      const local = address.slice(0, address.lastIndexOf('@'));
      if (!local.includes('%') && !local.includes('!')) return undefined;
      // `user%host`: the hosts after each %; `host!user`: the hosts before each !.
      const routed = [...local.split('%').slice(1), ...local.split('!').slice(0, -1)].flatMap((part) => part.split(/[%!]/));
      for (const host of routed) {
        const hit = host.includes('.') ? matchDomain(host) : undefined;
        if (hit !== undefined) return hit;
      }
      return undefined;
    },
  };
}
