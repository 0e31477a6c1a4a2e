import { BlockList, isIP, SocketAddress } from 'node:net';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { asciiOfUnicodeHost, idnLabelProblem } from './idn-host.ts';
import { isPublicSuffix, isRegistrySuffix, registeredWithin } from './public-suffix.ts';

/**
 * Where one client's agent may open connections through the egress proxy: host names (exact, or
 * `*.suffix` for any name below a domain) or IP literals, each on one port. Pure: derived from the
 * client's config, so the Docker proxy and the Kubernetes FQDN policy enforce the same list.
 */
export interface EgressRule {
  /** Lower-case ASCII name (punycode for an IDN) without a trailing dot, `*.` + a domain, or an IPv4/IPv6 literal (no brackets, its one spelling: see `canonicalIpLiteral`). */
  host: string;
  port: number;
}

export type EgressAllowList = readonly EgressRule[];

const HTTPS = 443;

/**
 * Google: the token endpoint and the Gmail API; the Calendar API and the keys that sign Pub/Sub push
 * tokens (oauth2/v3/certs) live on www.googleapis.com.
 */
const GOOGLE_MAIL = ['oauth2.googleapis.com', 'gmail.googleapis.com'];
const GOOGLE_APIS = ['www.googleapis.com'];
/** Microsoft: the identity platform's token endpoint and Graph (mail and calendar alike). */
const MICROSOFT = ['login.microsoftonline.com', 'graph.microsoft.com'];
const ANTHROPIC = ['api.anthropic.com'];
/**
 * Bullhorn: OAuth (auth*.bullhornstaffing.com), REST login (rest*.bullhornstaffing.com) and the
 * per-corporation restUrl its login answers with (rest<N>.bullhornstaffing.com), for every data center.
 */
const BULLHORN = ['*.bullhornstaffing.com'];

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** True for an IPv4 or IPv6 literal (IPv6 without brackets). */
export function isIpLiteral(host: string): boolean {
  return isIP(host) !== 0;
}

/**
 * A last label that is a number (`127.1`, `0x7f.1`, `0177.0.0.1`): resolvers and URL parsers read such a
 * name as an IPv4 address in short, octal or hex form, so it is neither a name nor a literal we accept.
 */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;

/**
 * The one spelling of an IP literal, so that a rule and a target written differently still compare equal:
 * IPv6 compressed and lower-case (`2001:0DB8:0:0::1` is `2001:db8::1`), and an IPv4-mapped IPv6 address as
 * the IPv4 address it reaches (`::ffff:7f00:1` is `127.0.0.1`). Null for anything else, a zone index
 * (`fe80::1%eth0`) included: which interface it names is the host's business, not a rule's.
 */
export function canonicalIpLiteral(text: string): string | null {
  const family = isIP(text);
  if (family === 0 || text.includes('%')) return null;
  const address = new SocketAddress({ address: text, family: family === 4 ? 'ipv4' : 'ipv6' }).address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  return mapped?.[1] ?? address;
}

/**
 * A host name of DNS labels (at least two), or an IP literal in its one spelling; lower-cased, trailing dot
 * dropped, a Unicode name in its ASCII (punycode) form (see `asciiOfUnicodeHost`).
 */
export function normaliseEgressHost(raw: string): string | null {
  const lowered = raw.trim().toLowerCase();
  if (lowered.length > 253) return null;
  const ascii = /[^\x00-\x7f]/.test(lowered) ? asciiOfUnicodeHost(lowered) : lowered;
  const host = ascii?.replace(/\.$/, '') ?? '';
  if (host === '' || host.length > 253) return null;
  if (isIpLiteral(host)) return canonicalIpLiteral(host);
  const labels = host.split('.');
  if (NUMERIC_LABEL.test(labels.at(-1) ?? '')) return null;
  return labels.length >= 2 && labels.every((label) => LABEL.test(label)) ? host : host === 'localhost' ? host : null;
}

/** A rule spelt right that names a public suffix rather than one organisation's host or domain; its message names the rule and why. */
export class EgressRuleScopeError extends FleetError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'EgressRuleScopeError';
  }
}

/**
 * An internationalised rule spelt right whose name is unfit for a rule: punycode that does not decode to
 * itself, symbols, or scripts mixed in a confusable way; its message names the rule and why.
 */
export class EgressRuleIdnError extends FleetError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'EgressRuleIdnError';
  }
}

/**
 * Parses `host`, `host:port`, `*.domain[:port]`, `10.0.0.1:8080` or `[::1]:8443` (the operator's extra
 * hosts); a name may be written in Unicode (`*.bücher.de`) and is kept in punycode. Without a port the
 * rule is for 443. Throws `invalid_input` naming the entry; an `EgressRuleScopeError` for a wildcard on a
 * public suffix (`*.co.uk`, `*.github.io`) or an exact registry suffix (`co.uk`); an `EgressRuleIdnError`
 * for an IDN unfit for a rule (see `idnLabelProblem`).
 */
export function parseEgressRule(text: string): EgressRule {
  const entry = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
  const plain = /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
  const [hostPart, portPart] = bracketed ? [bracketed[1], bracketed[2]] : plain ? [plain[1], plain[2]] : [undefined, undefined];
  const port = portPart === undefined ? HTTPS : Number(portPart);
  const wildcard = hostPart?.startsWith('*.') ?? false;
  const host = hostPart === undefined ? null : normaliseEgressHost(wildcard ? hostPart.slice(2) : hostPart);
  // Brackets only around IPv6, as written (its one spelling may be the IPv4 address it maps).
  const bracketsFit = bracketed === null || isIP(hostPart ?? '') === 6;
  // A wildcard spans the names below a domain of two labels or more, never a whole top-level one (`*.localhost`).
  const wildcardFits = !wildcard || (host !== null && !isIpLiteral(host) && host.includes('.'));
  if (host === null || port < 1 || port > 65_535 || !bracketsFit || !wildcardFits) {
    throw new FleetError('invalid_input', `egress host ${JSON.stringify(entry)} must be host[:port], *.domain[:port] or an IP literal`);
  }
  const idnProblem = isIpLiteral(host) ? null : idnLabelProblem(host);
  if (idnProblem !== null) throw new EgressRuleIdnError(`egress host ${JSON.stringify(entry)} is refused: ${idnProblem}`);
  // A wildcard is for the names of one organisation: below a public suffix every name is someone else's.
  if (wildcard && isPublicSuffix(host)) {
    throw new EgressRuleScopeError(
      `egress host ${JSON.stringify(entry)} would admit every domain registered under the public suffix ${host}: name one organisation's domain (*.example.${host}) or its hosts`,
    );
  }
  if (!wildcard && !isIpLiteral(host) && isRegistrySuffix(host)) {
    throw new EgressRuleScopeError(`egress host ${JSON.stringify(entry)} is a public suffix (a registry's zone), not a host: name the host`);
  }
  return { host: wildcard ? `*.${host}` : host, port };
}

const httpsRules = (hosts: readonly string[]): EgressRule[] => hosts.map((host) => ({ host, port: HTTPS }));

type EgressSettings = Pick<ClientConfig, 'provider' | 'permissions'> & Partial<Pick<ClientConfig, 'push'>>;

/**
 * The provider hosts a client's settings need, on 443: its mailbox provider (with Google's API host for
 * the calendar or for verifying signed Gmail pushes), the model, and the CRM when granted.
 */
export function providerEgressRules(config: EgressSettings): EgressRule[] {
  const granted = (capability: keyof ClientConfig['permissions']) => config.permissions[capability] === true;
  const calendar = granted('calendar.read') || granted('calendar.write');
  const signedPush = config.push?.gmailPushOidc !== undefined;
  const mailbox = config.provider === 'gmail' ? [...GOOGLE_MAIL, ...(calendar || signedPush ? GOOGLE_APIS : [])] : MICROSOFT;
  const crm = granted('crm.read') || granted('crm.write') ? BULLHORN : [];
  return httpsRules([...mailbox, ...ANTHROPIC, ...crm]);
}

/** The client's whole list: its provider hosts, then the fleet's extra hosts; duplicates dropped. */
export function egressAllowListFor(config: EgressSettings, extra: EgressAllowList = []): EgressAllowList {
  const seen = new Set<string>();
  return [...providerEgressRules(config), ...extra].filter((rule) => {
    const key = `${rule.host}|${rule.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The rule that admits `host:port`, or null. A name matches its exact rule or a `*.` rule of a domain it
 * lies strictly below, unless it is registered under a public suffix within that domain (another party's,
 * as `bucket.s3.amazonaws.com` is under `*.amazonaws.com`); an IP literal only an identical literal (never
 * a wildcard).
 */
export function findEgressRule(list: EgressAllowList, host: string, port: number): EgressRule | null {
  const name = normaliseEgressHost(host);
  if (name === null) return null;
  const literal = isIpLiteral(name);
  return (
    list.find((rule) => {
      if (rule.port !== port) return false;
      if (rule.host.startsWith('*.')) return !literal && name.endsWith(rule.host.slice(1)) && !registeredWithin(name, rule.host.slice(2));
      return (isIpLiteral(rule.host) ? canonicalIpLiteral(rule.host) : rule.host) === name;
    }) ?? null
  );
}

/** Why the proxy turned a request away; a bounded set, so it can be a log field (never a metric label per host). */
export type EgressRefusal =
  | 'not_allowed'
  | 'ip_literal'
  | 'bad_request'
  | 'plain_http'
  | 'foreign_source'
  | 'client_inactive'
  | 'private_address'
  | 'busy'
  | 'lookup_busy';

/**
 * Why a tunnel the list allowed never opened: its name gave no address or its host refused or dropped the
 * connection (`unreachable`, answered 502), or either took longer than the deadline (`timeout`, 504).
 */
export type EgressUpstreamFailure = 'unreachable' | 'timeout';

export type EgressDecision = { allow: true; rule: EgressRule } | { allow: false; reason: EgressRefusal };

/** Allow when a rule admits the target; an IP literal off the list is refused as such (it bypasses names). */
export function decideEgress(list: EgressAllowList, target: { host: string; port: number }): EgressDecision {
  const rule = findEgressRule(list, target.host, target.port);
  if (rule !== null) return { allow: true, rule };
  return { allow: false, reason: isIpLiteral(target.host) ? 'ip_literal' : 'not_allowed' };
}

/**
 * The names of a list that an FQDN network policy can express (the fleet-agent chart's
 * networkPolicy.egress.allowHosts): host names and `*.` patterns on 443; IP literals and other ports are
 * left to the proxy.
 */
export function fqdnAllowHosts(list: EgressAllowList): string[] {
  return [...new Set(list.filter((rule) => rule.port === HTTPS && !isIpLiteral(rule.host) && rule.host !== 'localhost').map((rule) => rule.host))];
}

/**
 * Addresses that are not on the public internet: loopback, private, shared (CGNAT), link-local (cloud
 * metadata at 169.254.169.254), documentation, benchmarking, multicast and reserved space, and the IPv6
 * forms that carry an IPv4 address inside (mapped, compatible, NAT64, 6to4, Teredo).
 */
const NON_PUBLIC_V4 = subnets('ipv4', [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
]);
const NON_PUBLIC_V6 = subnets('ipv6', [
  ['::', 96], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
]);
const LOOPBACK_V4 = subnets('ipv4', [['127.0.0.0', 8]]);
const LOOPBACK_V6 = subnets('ipv6', [['::1', 128]]);

function subnets(family: 'ipv4' | 'ipv6', networks: ReadonlyArray<readonly [string, number]>): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of networks) list.addSubnet(network, prefix, family);
  return list;
}

/** Each address is checked against the list of its own family only: a BlockList also matches IPv4 rules against IPv4-mapped IPv6 and back. */
const inLists = (address: string, v4: BlockList, v6: BlockList): boolean => {
  const family = isIP(address);
  return family === 4 ? v4.check(address, 'ipv4') : family === 6 && v6.check(address, 'ipv6');
};

/**
 * Whether the proxy may connect to `address`, which the name of `rule` resolved to (or the literal itself).
 * A name may lead only to a public address: DNS is not ours, and a name that resolves (or is rebound) to
 * loopback, the host's networks or the metadata service would turn the proxy into a way into them. Only a
 * rule that pins the address itself reaches beyond: an IP literal (that exact address) or `localhost`
 * (loopback only), both written by the operator.
 */
export function egressAddressAllowed(rule: EgressRule, address: string): boolean {
  if (isIP(address) === 0) return false;
  if (isIpLiteral(rule.host)) {
    const pinned = canonicalIpLiteral(rule.host);
    return pinned !== null && canonicalIpLiteral(address) === pinned;
  }
  if (rule.host === 'localhost') return inLists(address, LOOPBACK_V4, LOOPBACK_V6);
  return !inLists(address, NON_PUBLIC_V4, NON_PUBLIC_V6);
}
