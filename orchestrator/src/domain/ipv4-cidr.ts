import { isIPv4 } from 'node:net';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
}

export function parseIpv4Cidr(text: string): Ipv4Cidr {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  if (!match) throw new FleetError('invalid_input', `not an IPv4 CIDR: ${JSON.stringify(text)}`);
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) {
    throw new FleetError('invalid_input', `not an IPv4 CIDR: ${JSON.stringify(text)}`);
  }
  const address = octets.reduce((value, octet) => value * 256 + octet, 0);
  return { base: address - (address % 2 ** (32 - prefix)), prefix };
}

/** A dotted-quad IPv4 address as an unsigned 32-bit integer; null for anything else (no throw: it takes peers' addresses). */
export function ipv4Value(text: string): number | null {
  if (!isIPv4(text)) return null;
  return text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** Whether the address `value` (see `ipv4Value`) lies in `cidr`. */
export function cidrContains(cidr: Ipv4Cidr, value: number): boolean {
  return value >= cidr.base && value < cidr.base + 2 ** (32 - cidr.prefix);
}

export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

export function formatIpv4Cidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.base)}/${cidr.prefix}`;
}

function size(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** First usable host address of a subnet, used as the bridge gateway. */
export function gatewayOf(cidr: Ipv4Cidr): string {
  return formatIpv4(cidr.base + 1);
}

/**
 * The lowest subnet of `prefix` bits inside `pool` that overlaps none of `taken` (which may be of any
 * size, and may include networks we do not own). Small per-client subnets let hundreds of client
 * networks share one host, where Docker's default pools run out near 31 bridge networks.
 * `onCandidate` is told of each subnet tried, so a test can count that taken networks are stepped over whole.
 */
export function allocateSubnet(pool: string, prefix: number, taken: readonly string[], onCandidate: (subnet: string) => void = () => undefined): string {
  const poolCidr = parseIpv4Cidr(pool);
  if (prefix < poolCidr.prefix || prefix > 30) {
    throw new FleetError('invalid_input', `subnet prefix /${prefix} does not fit pool ${pool} (use /${poolCidr.prefix}–/30)`);
  }
  const takenCidrs = taken.flatMap((text) => {
    try {
      return [parseIpv4Cidr(text)];
    } catch {
      return []; // IPv6 or malformed entries cannot collide with an IPv4 pool
    }
  });
  const step = 2 ** (32 - prefix);
  const end = poolCidr.base + size(poolCidr);
  for (let base = poolCidr.base; base < end; ) {
    const candidate = { base, prefix };
    onCandidate(formatIpv4Cidr(candidate));
    const overlapped = takenCidrs.find((other) => cidrsOverlap(candidate, other));
    if (overlapped === undefined) return formatIpv4Cidr(candidate);
    // Past the whole taken network at once: a large one (or a nearly full pool) would otherwise be
    // walked one small step at a time, millions of steps each checked against every taken network.
    const pastIt = overlapped.base + size(overlapped);
    base = Math.max(base + step, Math.ceil(pastIt / step) * step);
  }
  throw new FleetError('unavailable', `subnet pool ${pool} is exhausted: no free /${prefix} left`);
}
