import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import { egressAddressAllowed, isIpLiteral, type EgressRule } from '../../domain/egress-allow-list.ts';
import type { LookupRunner } from './lookup-slots.ts';

/** Resolves a host name to its addresses (IPv4 and IPv6, in the resolver's order). Injectable for tests. */
export type EgressResolver = (host: string) => Promise<readonly string[]>;

/** The host's resolver (getaddrinfo: /etc/hosts, then DNS), as a connection by name would use it. */
export const systemEgressResolver: EgressResolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** Where a permitted tunnel may go: the checked addresses, or why it may go nowhere. */
export type EgressAddresses =
  | { kind: 'addresses'; addresses: readonly string[] }
  | { kind: 'private_address' }
  | { kind: 'unreachable' }
  | { kind: 'timeout' }
  /** No lookup slot came free in time: the name was never looked up. */
  | { kind: 'lookup_busy' };

/** The addresses of the host's own interfaces. Injectable for tests. */
export type HostAddresses = () => Iterable<string>;

/** The host's interfaces as Node sees them, read at each check (addresses come and go with networks). */
export const systemHostAddresses: HostAddresses = () =>
  Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address));

/** How a CONNECT's target becomes addresses: the resolver, its deadline and slots, and the host's own addresses. */
export interface EgressResolution {
  resolve: EgressResolver;
  timeoutMs: number;
  slots: LookupRunner;
  hostAddresses: HostAddresses;
}

/**
 * The host's own addresses as a list that compares by value (`::FFFF:a00:1` is `::ffff:10.0.0.1`). A public
 * address of the host (the IPv6 a cloud VM holds on its interface, say) is public to `egressAddressAllowed`,
 * yet a connection to it never leaves the host: it reaches every service the host has bound to all
 * addresses, past whatever firewall keeps the internet from them.
 */
function hostAddressList(hostAddresses: HostAddresses): BlockList {
  const own = new BlockList();
  for (const held of hostAddresses()) {
    const address = held.replace(/%.*$/, '');
    const family = isIP(address);
    if (family !== 0) own.addAddress(address, family === 4 ? 'ipv4' : 'ipv6');
  }
  return own;
}

const heldBy = (own: BlockList, address: string): boolean => {
  const family = isIP(address);
  return family !== 0 && own.check(address, family === 4 ? 'ipv4' : 'ipv6');
};

/**
 * Resolves the target of a permitted CONNECT once and keeps only the addresses its rule allows (see
 * `egressAddressAllowed`) and, for a name, that are not the host's own. The tunnel then connects to these
 * very addresses, never to the name again, so a name that answers a public address to this check and a
 * private one to the next lookup gets nowhere. Names are looked up within `slots` (see `LookupPool`).
 */
export async function egressAddressesOf(rule: EgressRule, host: string, how: EgressResolution): Promise<EgressAddresses> {
  let resolved: readonly string[];
  if (isIpLiteral(host)) {
    resolved = [host];
  } else {
    try {
      const answer = await how.slots.run(() => how.resolve(host), how.timeoutMs);
      if (answer === 'timeout') return { kind: 'timeout' };
      if (answer === 'no_slot') return { kind: 'lookup_busy' };
      resolved = answer;
    } catch {
      return { kind: 'unreachable' };
    }
  }
  if (resolved.length === 0) return { kind: 'unreachable' };
  // Only a rule that pins the address (an IP literal, or localhost for loopback) was written to reach the host.
  const own = isIpLiteral(rule.host) || rule.host === 'localhost' ? null : hostAddressList(how.hostAddresses);
  const addresses = resolved.filter((address) => egressAddressAllowed(rule, address) && (own === null || !heldBy(own, address)));
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
