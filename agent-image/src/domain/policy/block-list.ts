import { domainOf, withoutSubaddress } from '@agent-fleet/kernel/email-address';

/**
 * Block-list matching. Entries are `user@x.com` (one address, also matching `user+tag@x.com`), `x.com`
 * (that domain exactly: `evilx.com` and `a.x.com` do not match) and `*.x.com` (every subdomain of x.com,
 * not x.com itself). Compiled once into sets so a lookup is a few hash probes. A local part that routes
 * on to another host (`x%rival.com@relay.com`, `rival.com!x@relay.com`, still honoured by some relays)
 * is matched by the hosts it names as well.
 */
export type BlockListMatcher = {
  /** The matching entry for a normalised address, or undefined. */
  match(address: string): string | undefined;
};

export function compileBlockList(entries: readonly string[]): BlockListMatcher {
  const addresses = new Set<string>();
  const domains = new Set<string>();
  const subdomainsOf = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (entry.includes('@')) addresses.add(entry);
    else if (entry.startsWith('*.')) subdomainsOf.add(entry.slice(2));
    else domains.add(entry);
  }
  const matchDomain = (domain: string): string | undefined => {
    if (domains.has(domain)) return domain;
    if (subdomainsOf.size === 0) return undefined;
    for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) {
      const parent = domain.slice(dot + 1);
      if (subdomainsOf.has(parent)) return `*.${parent}`;
    }
    return undefined;
  };
  return {
    match(address) {
      if (addresses.has(address)) return address;
      const base = withoutSubaddress(address);
      if (base !== address && addresses.has(base)) return base;
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
