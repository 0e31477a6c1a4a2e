import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * The host firewall of Docker client networks, as iptables lines. A packet from an agent to any of the
 * host's own addresses (its network's gateway, another client's gateway, docker0, the host's LAN address)
 * is INPUT traffic, which Docker's isolation rules (all in FORWARD) never see: without these rules, every
 * host service listening on a non-loopback address answers every agent. One chain, jumped to first from
 * INPUT, shared by every fleet on the host: each client's rules name its bridge interface, which is unique
 * to one network (`br-` and the network's id), so fleets never touch each other's rules and the rules of a
 * removed network match nothing. Pure.
 */
export const CLIENT_INPUT_CHAIN = 'AGENT-FLEET-INPUT';

/** A client bridge and its network's gateway (the bridge's own address on the host). */
export interface BridgeAdmission {
  bridge: string;
  gateway: string;
}

/**
 * Answers to connections the host opened (the orchestrator's control calls, Prometheus's scrapes) pass
 * untouched; first in the chain, so the usual packet costs one rule whatever the number of clients.
 */
export const CHAIN_HEAD_RULE = `-A ${CLIENT_INPUT_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`;

// Linux interface names: at most 15 bytes; `+` would be an iptables wildcard.
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * One client bridge's rules, exactly as `iptables -S` prints them (so that a listing compares equal). A
 * connection to its gateway passes on to the rest of INPUT when a socket is bound to that very address
 * (`-m socket` leaves out sockets bound to every address): the orchestrator binds the client's egress
 * proxy and Vault there, and nothing else on the host is meant for one client's network. Services bound to
 * every address (sshd, a database on 0.0.0.0), to other addresses (the LAN, docker0, another client's
 * gateway) and anything else the bridge sends the host are dropped.
 */
export function bridgeInputRules({ bridge, gateway }: BridgeAdmission): string[] {
  if (!INTERFACE_NAME.test(bridge)) throw new FleetError('invalid_input', `host firewall: ${JSON.stringify(bridge)} is not an interface name`);
  if (!IPV4.test(gateway)) throw new FleetError('invalid_input', `host firewall: ${JSON.stringify(gateway)} is not an IPv4 address`);
  return [
    `-A ${CLIENT_INPUT_CHAIN} -d ${gateway}/32 -i ${bridge} -p tcp -m socket -j RETURN`,
    `-A ${CLIENT_INPUT_CHAIN} -i ${bridge} -j DROP`,
  ];
}

/** The rule of INPUT that sends every packet through the chain; it must come before any other. */
export const INPUT_JUMP_RULE = `-A INPUT -j ${CLIENT_INPUT_CHAIN}`;

const rulesOf = (chain: string, listing: string): string[] =>
  listing.split('\n').map((line) => line.trim()).filter((line) => line.startsWith(`-A ${chain} `));

/** The chain's rules in a `iptables -S <chain>` listing, in order (the `-N` line left out). */
export function chainRules(listing: string): string[] {
  return rulesOf(CLIENT_INPUT_CHAIN, listing);
}

/** A listed rule (`-A <chain> …`) as the restore line that deletes it. */
const deleting = (rule: string): string => rule.replace(/^-A /, '-D ');

/** A listed rule (`-A <chain> …`) as the restore line that inserts it first in its chain. */
const insertingFirst = (rule: string): string => rule.replace(/^-A (\S+)/, '-I $1 1');

/** Whether an `iptables -S INPUT` listing sends every packet through the chain before any other rule. */
export function jumpsFirst(inputListing: string): boolean {
  return rulesOf('INPUT', inputListing)[0] === INPUT_JUMP_RULE;
}

/** The restore lines that put the jump first in INPUT (taking it from where it is), or none when it is. */
export function jumpFirstLines(inputListing: string): string[] {
  if (jumpsFirst(inputListing)) return [];
  const elsewhere = rulesOf('INPUT', inputListing).includes(INPUT_JUMP_RULE);
  return [...(elsewhere ? [deleting(INPUT_JUMP_RULE)] : []), insertingFirst(INPUT_JUMP_RULE)];
}

/** The bridge a rule of the chain names, if any. */
const bridgeOfRule = (rule: string): string | undefined => / -i (\S+)/.exec(rule)?.[1];

/** Rules per bridge they name, each bridge's in their order (the head rule names none). */
export function rulesByBridge(rules: readonly string[]): Map<string, string[]> {
  const byBridge = new Map<string, string[]>();
  for (const rule of rules) {
    const bridge = bridgeOfRule(rule);
    if (bridge !== undefined) byBridge.set(bridge, [...(byBridge.get(bridge) ?? []), rule]);
  }
  return byBridge;
}

/** The same rules in the same order; false when `present` is absent. */
export function sameRules(present: readonly string[] | undefined, wanted: readonly string[]): boolean {
  return present !== undefined && present.length === wanted.length && present.every((rule, index) => rule === wanted[index]);
}

/** Whether the chain's listing holds its head rule first and exactly the bridge's rules, in order. */
export function holdsBridge(listing: string, admission: BridgeAdmission): boolean {
  const rules = chainRules(listing);
  return rules[0] === CHAIN_HEAD_RULE && sameRules(rulesByBridge(rules).get(admission.bridge), bridgeInputRules(admission));
}

/**
 * The `iptables-restore --noflush` script that brings the chain from `listing` to: the head rule first,
 * each admitted bridge with exactly its rules, and no rules left for bridges that no longer exist on the
 * host (`liveBridges`). Null when the chain is already so. Deletions name whole rules, so a script made
 * from a listing another process changed since fails as a whole and changes nothing (iptables-restore
 * commits a table at once): read again and retry.
 */
export function chainUpdateScript(listing: string, admissions: readonly BridgeAdmission[], liveBridges: ReadonlySet<string>): string | null {
  const current = chainRules(listing);
  const byBridge = rulesByBridge(current);
  const wanted = new Map(admissions.map((admission) => [admission.bridge, bridgeInputRules(admission)]));
  const deletions: string[] = [];
  const insertions: string[] = [];
  if (current[0] !== CHAIN_HEAD_RULE) {
    if (current.includes(CHAIN_HEAD_RULE)) deletions.push(CHAIN_HEAD_RULE);
    insertions.push(insertingFirst(CHAIN_HEAD_RULE));
  }
  const appended: string[] = [];
  for (const [bridge, rules] of wanted) {
    const present = byBridge.get(bridge) ?? [];
    if (sameRules(present, rules)) continue;
    deletions.push(...present);
    appended.push(...rules);
  }
  for (const [bridge, present] of byBridge) {
    if (!wanted.has(bridge) && !liveBridges.has(bridge)) deletions.push(...present);
  }
  if (deletions.length === 0 && insertions.length === 0 && appended.length === 0) return null;
  return ['*filter', ...deletions.map(deleting), ...insertions, ...appended, 'COMMIT', ''].join('\n');
}
