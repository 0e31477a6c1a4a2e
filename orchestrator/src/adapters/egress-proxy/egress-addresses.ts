import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { egressAddressAllowed, isIpLiteral, type EgressRule } from '../../domain/egress-allow-list.ts';

/** Resolves a host name to its addresses (IPv4 and IPv6, in the resolver's order). Injectable for tests. */
export type EgressResolver = (host: string) => Promise<readonly string[]>;

/** The host's resolver (getaddrinfo: /etc/hosts, then DNS), as a connection by name would use it. */
export const systemEgressResolver: EgressResolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** Where a permitted tunnel may go: the checked addresses, or why it may go nowhere. */
export type EgressAddresses =
  | { kind: 'addresses'; addresses: readonly string[] }
  | { kind: 'private_address' }
  | { kind: 'unreachable' }
  | { kind: 'timeout' };

/**
 * Resolves the target of a permitted CONNECT once and keeps only the addresses its rule allows (see
 * `egressAddressAllowed`). The tunnel then connects to these very addresses, never to the name again, so a
 * name that answers a public address to this check and a private one to the next lookup gets nowhere.
 */
export async function egressAddressesOf(rule: EgressRule, host: string, resolve: EgressResolver, timeoutMs: number): Promise<EgressAddresses> {
  let resolved: readonly string[];
  if (isIpLiteral(host)) {
    resolved = [host];
  } else {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((settle) => {
      timer = setTimeout(() => settle('timeout'), timeoutMs);
    });
    try {
      const answer = await Promise.race([resolve(host), deadline]);
      if (answer === 'timeout') return { kind: 'timeout' };
      resolved = answer;
    } catch {
      return { kind: 'unreachable' };
    } finally {
      clearTimeout(timer);
    }
  }
  if (resolved.length === 0) return { kind: 'unreachable' };
  const addresses = resolved.filter((address) => egressAddressAllowed(rule, address));
  return addresses.length === 0 ? { kind: 'private_address' } : { kind: 'addresses', addresses };
}

/** A `lookup` for net.connect that answers the addresses already checked, so no second resolution happens. */
export function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_hostname, options, callback) => {
    const first = entries[0];
    if (options.all === true) callback(null, entries);
    else if (first !== undefined) callback(null, first.address, first.family);
    else callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', 0);
  };
}
