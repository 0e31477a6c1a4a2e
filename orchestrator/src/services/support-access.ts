import { randomBytes } from 'node:crypto';
import { unsafeTextIssue } from '@agent-fleet/kernel/client-config';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { SerialQueue } from '@agent-fleet/kernel/serial-queue';
import { CLIENT_DELETION_ACTIONS } from '../domain/ops-log-chain.ts';
import type { Clock } from '../ports/clock.ts';
import type { NewOpsLogEntry, OpsLogAppendGuard, OpsLogEntry, OpsLogListFilter, Registry } from '../ports/registry.ts';
import { currentLife } from './erasure/erasure-records.ts';
import { SupportClientAdmins } from './support-client-admins.ts';
import { MEMBER_IDENTITY_ACTIONS } from './team/team-members.ts';

/**
 * Support access to a client's data: no standing access, a grant per incident, approved by one of the
 * client's own admins, time-limited, and every use logged with the time, the team member and the reason.
 * Grants live in the hash-chained ops log (request, approve, revoke, access entries), so their whole
 * history is as tamper-evident as every other admin action.
 */

export type SupportGrantStatus = 'pending' | 'active' | 'expired' | 'revoked';

export interface SupportGrant {
  id: string;
  clientId: string;
  /** The team member the access is for (the operator identity the CLI sends as actor). */
  member: string;
  incident: string;
  reason: string;
  hours: number;
  requestedAt: string;
  requestedBy: string;
  approvedBy: string | null;
  approvedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  status: SupportGrantStatus;
}

export const SUPPORT_ACTIONS = {
  request: 'support-request',
  approve: 'support-approve',
  revoke: 'support-revoke',
  access: 'support-access',
} as const;

/**
 * The entries a grant's state is folded from. Not the access entries: one is logged on every use, so a
 * read that took them in would grow with each read of the client's data, and the fold never needs them.
 */
const GRANT_STATE_ACTIONS: readonly string[] = [SUPPORT_ACTIONS.request, SUPPORT_ACTIONS.approve, SUPPORT_ACTIONS.revoke];
/**
 * With the client's deletions: a client id can be provisioned again once its client was erased or purged,
 * and a grant of the earlier client (approved by its admins, about its incident) is not the new client's.
 */
const GRANT_READ_ACTIONS: readonly string[] = [...GRANT_STATE_ACTIONS, ...CLIENT_DELETION_ACTIONS];
const IDENTITY_CHANGE_ACTIONS: readonly string[] = Object.values(MEMBER_IDENTITY_ACTIONS);

const MAX_HOURS = 24;
/**
 * Requests waiting for the client's admins, at most, naming one member or made by one requester: each is a
 * line on the client's support page and a decision asked of its admins, so one member cannot bury them.
 */
export const MAX_PENDING_REQUESTS = 5;
/** The actor of a revocation the service makes itself (an approver who no longer speaks for the client). */
export const SUPPORT_SYSTEM_ACTOR = 'system';
/** A request nobody approved within this time cannot be approved any more: ask again. */
const PENDING_VALID_HOURS = 72;
const HOUR_MS = 3_600_000;
const INCIDENT_RULE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const MEMBER_RULE = /^[\w.@:+-]{1,100}$/;
const GRANT_ID_RULE = /^sg-[a-f0-9]{16}$/;

export interface SupportAccessDependencies {
  registry: Registry;
  clock: Clock;
  /**
   * Links a grant to its incident (services/incidents): refuses (FleetError `not_found` or `conflict`) an
   * incident that is unknown, closed or about other clients, once the fleet tracks incidents. Checked at the
   * request, at the approval and at every use, so a grant ends with its incident. Absent: only a label.
   */
  linkIncident?: (incident: string, clientId: ClientId) => Promise<void>;
  /**
   * Whether a name is a member of the team now (TeamMembers.isMember): a request for anyone else is refused,
   * whichever surface it came through, and so is a use of a grant by a name no longer on the team. Absent:
   * every name is taken for a member (unit beds without a team).
   */
  isTeamMember?: (member: string) => Promise<boolean>;
}

export class SupportAccessService {
  private readonly deps: SupportAccessDependencies;
  private readonly admins: SupportClientAdmins;
  /**
   * Request, approve and revoke one at a time in this process. What must hold across processes sharing the
   * registry (the pending limit, one approval per grant) is checked again by the registry itself, in the
   * same step as the append (`appendOpsLogIf`): see `grantGuard`.
   */
  private readonly writes = new SerialQueue();
  /** Revocations of unvouched grants being logged, by grant id: reads running together log one each. */
  private readonly ending = new Map<string, Promise<void>>();

  constructor(deps: SupportAccessDependencies) {
    this.deps = deps;
    this.admins = new SupportClientAdmins(deps.registry);
  }

  async request(input: { clientId: unknown; member: string; incident: string; reason: string; hours?: number; actor: string }): Promise<SupportGrant> {
    const clientId = parseClientId(input.clientId);
    if (!MEMBER_RULE.test(input.member)) throw new FleetError('invalid_input', 'member must be an operator identity: letters, digits and . @ : + - _ (at most 100)');
    if (!INCIDENT_RULE.test(input.incident)) throw new FleetError('invalid_input', 'incident must be an incident id such as INC-42 (letters, digits, . _ : -; at most 64)');
    const reason = input.reason.trim();
    if (reason === '' || reason.length > 500) throw new FleetError('invalid_input', 'a reason of 1-500 characters is required');
    // The reason is shown to the client's admins when they decide: nothing in it may hide or reorder text.
    const unsafe = unsafeTextIssue(reason, { multiLine: true });
    if (unsafe !== undefined) throw new FleetError('invalid_input', `the reason ${unsafe}`);
    const hours = input.hours ?? 4;
    if (!Number.isInteger(hours) || hours < 1 || hours > MAX_HOURS) throw new FleetError('invalid_input', `hours must be a whole number from 1 to ${MAX_HOURS}`);
    return this.writes.run(() => this.logRequest({ ...input, clientId, reason, hours }));
  }

  private async logRequest(input: { clientId: ClientId; member: string; incident: string; reason: string; hours: number; actor: string }): Promise<SupportGrant> {
    const { clientId, reason, hours } = input;
    await this.openClient(clientId);
    // A name nobody on the team holds could never use a grant (adding it later ends the grant), yet the
    // client's admins would be asked to approve access for it.
    if (this.deps.isTeamMember !== undefined && !(await this.deps.isTeamMember(input.member))) {
      throw new FleetError('invalid_input', `${input.member} is not a team member: support access is granted to a member of the team (fleet team list)`);
    }
    const now = this.deps.clock.now();
    // Checked first (a refusal costs no incident lookup), and again where the request is appended, against
    // every request another orchestrator on the registry appended meanwhile.
    const early = floodRefusal(await this.foldedGrantsOf(clientId, isPending), clientId, input.member, input.actor);
    if (early !== null) throw early;
    await this.deps.linkIncident?.(input.incident, clientId);
    const id = `sg-${randomBytes(8).toString('hex')}`;
    await this.appendGuarded(
      {
        at: now.toISOString(),
        actor: input.actor,
        action: SUPPORT_ACTIONS.request,
        clientId,
        reason,
        outcome: 'pending',
        details: { grantId: id, member: input.member, incident: input.incident, hours },
      },
      grantGuard(clientId, now, (grants) => floodRefusal(grants.filter(isPending), clientId, input.member, input.actor)),
    );
    return this.find(clientId, id);
  }

  /** Only one of the client's admins (from its config) can approve; the access then runs for `hours`. */
  async approve(input: { clientId: unknown; grantId: string; by: string; actor: string }): Promise<SupportGrant> {
    const clientId = parseClientId(input.clientId);
    return this.writes.run(() => this.logApproval({ ...input, clientId }));
  }

  private async logApproval(input: { clientId: ClientId; grantId: string; by: string; actor: string }): Promise<SupportGrant> {
    const { clientId } = input;
    await this.openClient(clientId);
    const grant = await this.find(clientId, input.grantId);
    if (grant.status !== 'pending') throw new FleetError('conflict', `grant ${grant.id} is ${grant.status}; only a pending grant can be approved`);
    const requestedMs = Date.parse(grant.requestedAt);
    const now = this.deps.clock.now();
    if (now.getTime() - requestedMs > PENDING_VALID_HOURS * HOUR_MS) {
      throw new FleetError('conflict', `grant ${grant.id} was requested more than ${PENDING_VALID_HOURS} h ago; request a new one`);
    }
    const by = input.by.trim().toLowerCase();
    if (!(await this.admins.of(clientId)).has(by)) {
      throw new FleetError('forbidden', `${input.by} is not an admin of ${clientId}; support access needs the approval of one of the client's admins`);
    }
    // The incident may have closed since the request (closing revokes the grants it lists, not one
    // requested while it closed): an approval is for an open incident.
    await this.deps.linkIncident?.(grant.incident, clientId);
    const expiresAt = new Date(now.getTime() + grant.hours * HOUR_MS).toISOString();
    // Another orchestrator on the same registry may have approved or ended the grant since the check above:
    // the approval is appended only while the grant is still pending, so there is one, and its caller is
    // told when it was not theirs rather than shown someone else's.
    await this.appendGuarded(
      {
        at: now.toISOString(),
        actor: input.actor,
        action: SUPPORT_ACTIONS.approve,
        clientId,
        reason: grant.reason,
        outcome: 'success',
        details: { grantId: grant.id, approvedBy: by, expiresAt },
      },
      grantGuard(clientId, now, (grants) => {
        const current = grants.find((candidate) => candidate.id === grant.id);
        if (current?.status === 'pending') return null;
        return new FleetError('conflict', `grant ${grant.id} was ${describeEnded(current)} meanwhile; this approval changed nothing`);
      }),
    );
    const approved = await this.find(clientId, grant.id);
    // Its approver stopped speaking for the client (removed from its admins) just as it was appended.
    if (approved.status !== 'active') throw new FleetError('conflict', `grant ${grant.id} was ${approved.status} meanwhile; this approval changed nothing`);
    return approved;
  }

  async revoke(input: { clientId: unknown; grantId: string; actor: string }): Promise<SupportGrant> {
    const clientId = parseClientId(input.clientId);
    return this.writes.run(() => this.logRevocation({ ...input, clientId }));
  }

  private async logRevocation(input: { clientId: ClientId; grantId: string; actor: string }): Promise<SupportGrant> {
    const clientId = await this.existingClient(input.clientId);
    const grant = await this.find(clientId, input.grantId);
    if (isEnded(grant)) return grant;
    const now = this.deps.clock.now();
    // Ended meanwhile by another orchestrator: nothing more to log, and the caller is shown the grant as it is.
    await this.deps.registry.appendOpsLogIf(
      { at: now.toISOString(), actor: input.actor, action: SUPPORT_ACTIONS.revoke, clientId, reason: grant.reason, outcome: 'success', details: { grantId: grant.id } },
      grantGuard(clientId, now, (grants) => endedRefusal(grants, grant.id)),
    );
    return this.find(clientId, grant.id);
  }

  /**
   * Ends, at the change, each active grant approved by someone not among `admins`, the client's admins as
   * a change of its config just left them: what records such a change calls (ClientSettings.record). Logged
   * as revocations, so a grant stays ended when the address is made an admin again, whether or not anything
   * read the grant in between. Returns the grants it ended.
   */
  async endGrantsOfFormerAdmins(rawClientId: unknown, admins: readonly string[]): Promise<SupportGrant[]> {
    const clientId = parseClientId(rawClientId);
    const speaking = new Set(admins.map((admin) => admin.trim().toLowerCase()));
    return this.writes.run(async () => {
      const active = await this.foldedGrantsOf(clientId, (grant) => grant.status === 'active');
      const unvouched = active.filter((grant) => grant.approvedBy === null || !speaking.has(grant.approvedBy));
      return Promise.all(unvouched.map((grant) => this.endUnvouchedGrant(grant)));
    });
  }

  async list(rawClientId: unknown): Promise<SupportGrant[]> {
    return this.grantsOf(parseClientId(rawClientId), () => true);
  }

  /**
   * Whether `member` holds an active grant of the client: the API asks on every read that may show client
   * content, so it reads the client's grant entries and, only when the member holds a grant the team's
   * identity changes could still end, those changes.
   */
  async hasActiveGrant(rawClientId: unknown, member: string): Promise<boolean> {
    const active = await this.activeGrantsOf(parseClientId(rawClientId), member);
    return active.length > 0 && (await this.onTeam(member));
  }

  /**
   * The gate in front of every read of client data by the team: an active, client-approved grant for this
   * member whose incident is still open (with `incident`: a grant for that incident, as access is granted
   * per incident), or FleetError('forbidden'). Each use is logged with the time, the member and the reason.
   */
  async authorize(rawClientId: unknown, member: string, purpose: string, scope: { incident?: string } = {}): Promise<SupportGrant> {
    const clientId = parseClientId(rawClientId);
    const active = (await this.activeGrantsOf(clientId, member)).filter(
      (candidate) => scope.incident === undefined || candidate.incident === scope.incident,
    );
    if (active.length > 0 && !(await this.onTeam(member))) {
      throw new FleetError('forbidden', `${member} is not a team member: support grants are used by members of the team only`);
    }
    const grant = await this.firstWithOpenIncident([...active].reverse(), clientId);
    if (grant === undefined) {
      const forIncident = scope.incident === undefined ? '' : ` for ${scope.incident}`;
      const ended = active.length > 0 ? ` (the incident of ${active.map((candidate) => candidate.id).join(', ')} is no longer open)` : '';
      throw new FleetError(
        'forbidden',
        `${member} has no active support grant${forIncident} for ${clientId}${ended}: request one per incident (fleet support request ${clientId} --incident ${scope.incident ?? '<id>'} --reason "…") and have a client admin approve it`,
      );
    }
    await this.deps.registry.appendOpsLog({
      at: this.deps.clock.now().toISOString(),
      actor: member,
      action: SUPPORT_ACTIONS.access,
      clientId,
      reason: grant.reason,
      outcome: 'success',
      details: { grantId: grant.id, incident: grant.incident, purpose },
    });
    return grant;
  }

  /** The first of `grants` whose incident still links to the client (open, about it); newest first given. */
  private async firstWithOpenIncident(grants: readonly SupportGrant[], clientId: ClientId): Promise<SupportGrant | undefined> {
    for (const grant of grants) {
      try {
        await this.deps.linkIncident?.(grant.incident, clientId);
        return grant;
      } catch (error) {
        if (!isFleetError(error) || (error.code !== 'not_found' && error.code !== 'conflict')) throw error;
      }
    }
    return undefined;
  }

  /**
   * Whether the name is on the team now. A removal ends its member's grants by its ops-log entry, appended
   * after the member has left the team store: a read in between, or an entry whose append failed, must not
   * leave a name nobody holds any more its access. Asked only when the name holds an active grant.
   */
  private async onTeam(member: string): Promise<boolean> {
    return this.deps.isTeamMember === undefined || (await this.deps.isTeamMember(member));
  }

  private activeGrantsOf(clientId: ClientId, member: string): Promise<SupportGrant[]> {
    return this.grantsOf(clientId, (grant) => grant.status === 'active' && grant.member === member);
  }

  /**
   * The client's grants that `keep` selects, with their state now. The team's identity changes are read
   * only when a selected grant could still end by one (none is revoked yet): a caller who holds no grant,
   * the common case on every read of the API, costs one read of the client's grant entries.
   */
  private async grantsOf(clientId: ClientId, keep: (grant: SupportGrant) => boolean): Promise<SupportGrant[]> {
    const folded = await this.foldedGrantsOf(clientId, keep);
    return (await this.endUnvouched(clientId, folded)).filter(keep);
  }

  /** The client's grants that `keep` selects, as the ops log has them: nothing is checked against its admins. */
  private async foldedGrantsOf(clientId: ClientId, keep: (grant: SupportGrant) => boolean): Promise<SupportGrant[]> {
    const entries = currentLife(await this.deps.registry.listOpsLog({ clientId, actions: GRANT_READ_ACTIONS }));
    const now = this.deps.clock.now();
    const selected = foldGrants(entries, now).filter(keep);
    if (selected.every((grant) => grant.revokedAt !== null)) return selected;
    // Read after the grants: a member removed or reissued meanwhile is then seen, never missed. An identity
    // change only revokes, so the grants it leaves selected are among those selected without it.
    const identityChanges = await this.deps.registry.listOpsLog({ actions: IDENTITY_CHANGE_ACTIONS });
    return foldGrants(entries, now, identityChanges).filter(keep);
  }

  /**
   * Ends each active grant whose approver no longer speaks for the client: removed from its admins, or the
   * client gone. The client gave access through that person; once the client has taken their say away it
   * would not expect access they opened to outlast it. The change of admins ends them when it is recorded
   * (endGrantsOfFormerAdmins); this is the net under that, for a change recorded without it. Logged as a
   * revocation, so the grant stays ended if the address is made an admin again, and the ops log says why it
   * ended. One read of the client record, and only when a grant is active.
   */
  private async endUnvouched(clientId: ClientId, grants: SupportGrant[]): Promise<SupportGrant[]> {
    if (!grants.some((grant) => grant.status === 'active')) return grants;
    const admins = await this.admins.of(clientId);
    const ended: SupportGrant[] = [];
    for (const grant of grants) {
      const vouched = grant.status !== 'active' || (grant.approvedBy !== null && admins.has(grant.approvedBy));
      ended.push(vouched ? grant : await this.endUnvouchedGrant(grant));
    }
    return ended;
  }

  private async endUnvouchedGrant(grant: SupportGrant): Promise<SupportGrant> {
    const at = this.deps.clock.now().toISOString();
    await this.logEndOfUnvouched(grant, at);
    return { ...grant, revokedAt: at, status: 'revoked' };
  }

  private logEndOfUnvouched(grant: SupportGrant, at: string): Promise<void> {
    const running = this.ending.get(grant.id);
    if (running !== undefined) return running;
    // Another orchestrator reading the grant at the same time ends it too: one revocation is logged.
    const logged = this.deps.registry
      .appendOpsLogIf(
        {
          at,
          actor: SUPPORT_SYSTEM_ACTOR,
          action: SUPPORT_ACTIONS.revoke,
          clientId: grant.clientId,
          reason: grant.reason,
          outcome: 'success',
          details: { grantId: grant.id, approvedBy: grant.approvedBy, ended: 'the approver no longer speaks for the client: not among its admins, or the client is gone' },
        },
        grantGuard(grant.clientId, new Date(at), (grants) => endedRefusal(grants, grant.id)),
      )
      .then(() => undefined)
      .finally(() => this.ending.delete(grant.id));
    this.ending.set(grant.id, logged);
    return logged;
  }

  /** Appends `entry` if `guard` allows it; its refusal (a FleetError) is thrown. */
  private async appendGuarded(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<FleetError>): Promise<OpsLogEntry> {
    const appended = await this.deps.registry.appendOpsLogIf(entry, guard);
    if (appended.outcome === 'refused') throw appended.refusal;
    return appended.entry;
  }

  private async find(clientId: ClientId, grantId: string): Promise<SupportGrant> {
    if (!GRANT_ID_RULE.test(grantId)) throw new FleetError('invalid_input', 'a grant id looks like sg-0123456789abcdef');
    const [grant] = await this.grantsOf(clientId, (candidate) => candidate.id === grantId);
    if (grant === undefined) throw new FleetError('not_found', `no support grant ${grantId} for ${clientId}`);
    return grant;
  }

  private async existingClient(rawClientId: unknown): Promise<ClientId> {
    const clientId = parseClientId(rawClientId);
    if (!(await this.deps.registry.getClient(clientId))) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    return clientId;
  }

  /**
   * A client the registry knows. A closed one included: during its retention period its data is still its
   * own, exported through an operator with a grant its admins approve (the export reads the kept volume).
   */
  private async openClient(clientId: ClientId): Promise<void> {
    if (!(await this.deps.registry.getClient(clientId))) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
  }
}

const isPending = (grant: SupportGrant): boolean => grant.status === 'pending';
const isEnded = (grant: SupportGrant): boolean => grant.status === 'revoked' || grant.status === 'expired';

/**
 * The guard of a support write on the client's grants as the registry holds them at the append: the
 * client's grant entries of its current life and the team's identity changes (which end grants), folded at
 * `now`, and what `refusal` says of them.
 */
function grantGuard<Refusal>(clientId: string, now: Date, refusal: (grants: readonly SupportGrant[]) => Refusal | null): OpsLogAppendGuard<Refusal> {
  const reads: readonly OpsLogListFilter[] = [{ clientId, actions: GRANT_READ_ACTIONS }, { actions: IDENTITY_CHANGE_ACTIONS }];
  return {
    reads,
    refusal: ([grantEntries = [], identityChanges = []]: readonly (readonly OpsLogEntry[])[]) => refusal(foldGrants(currentLife(grantEntries), now, identityChanges)),
  };
}

/** Why a revocation of `grantId` is not logged: it has ended already (or is gone with its client); null otherwise. */
function endedRefusal(grants: readonly SupportGrant[], grantId: string): 'ended' | null {
  const current = grants.find((candidate) => candidate.id === grantId);
  return current === undefined || isEnded(current) ? 'ended' : null;
}

function describeEnded(grant: SupportGrant | undefined): string {
  if (grant === undefined) return 'deleted with its client';
  return grant.status === 'active' ? `approved by ${String(grant.approvedBy)}` : grant.status;
}

/**
 * At most MAX_PENDING_REQUESTS waiting for the member, and as many made by the requester: the refusal of
 * one more, given the client's pending grants, or null.
 */
function floodRefusal(pending: readonly SupportGrant[], clientId: string, member: string, requester: string): FleetError | null {
  const forMember = pending.filter((grant) => grant.member === member).length;
  const byRequester = pending.filter((grant) => grant.requestedBy === requester).length;
  if (forMember < MAX_PENDING_REQUESTS && byRequester < MAX_PENDING_REQUESTS) return null;
  const who = forMember >= MAX_PENDING_REQUESTS ? `${member} already has` : `${requester} already made`;
  return new FleetError(
    'conflict',
    `${who} ${MAX_PENDING_REQUESTS} support requests waiting for the admins of ${clientId} (the most there can be): wait for their answer, or withdraw one (fleet support revoke ${clientId} <grant-id>)`,
  );
}

/**
 * Grant states from the ops log entries of one client, oldest first. `identityChanges` (team-add, -remove,
 * -reissue entries) end every grant of a member requested before them: the client approved access for the
 * person who held that name then, not for whoever is added or enrols under it later.
 */
export function foldGrants(entries: readonly OpsLogEntry[], now: Date, identityChanges: readonly OpsLogEntry[] = []): SupportGrant[] {
  const grants = new Map<string, SupportGrant>();
  /** Where each grant's request, and revocation if any, sit in the ops log. */
  const seqs = new Map<string, { request: number; revoke: number | null }>();
  for (const entry of entries) {
    const grantId = typeof entry.details['grantId'] === 'string' ? entry.details['grantId'] : null;
    if (grantId === null) continue;
    if (entry.action === SUPPORT_ACTIONS.request && entry.clientId !== null) {
      grants.set(grantId, {
        id: grantId,
        clientId: entry.clientId,
        member: String(entry.details['member']),
        incident: String(entry.details['incident']),
        reason: entry.reason ?? '',
        hours: Number(entry.details['hours']),
        requestedAt: entry.at,
        requestedBy: entry.actor,
        approvedBy: null,
        approvedAt: null,
        expiresAt: null,
        revokedAt: null,
        status: 'pending',
      });
      seqs.set(grantId, { request: entry.seq, revoke: null });
      continue;
    }
    const grant = grants.get(grantId);
    if (grant === undefined) continue;
    if (entry.action === SUPPORT_ACTIONS.approve && grant.approvedAt === null && grant.revokedAt === null) {
      grant.approvedBy = String(entry.details['approvedBy']);
      grant.approvedAt = entry.at;
      grant.expiresAt = String(entry.details['expiresAt']);
    } else if (entry.action === SUPPORT_ACTIONS.revoke && grant.revokedAt === null) {
      grant.revokedAt = entry.at;
      const at = seqs.get(grantId);
      if (at !== undefined) at.revoke = entry.seq;
    }
  }
  endGrantsOfChangedMembers(grants, seqs, identityChanges);
  for (const grant of grants.values()) grant.status = statusOf(grant, now);
  return [...grants.values()];
}

/** Marks revoked, at the change, each grant whose member was added, removed or reissued after its request. */
function endGrantsOfChangedMembers(
  grants: ReadonlyMap<string, SupportGrant>,
  seqs: ReadonlyMap<string, { request: number; revoke: number | null }>,
  identityChanges: readonly OpsLogEntry[],
): void {
  const identityActions: readonly string[] = Object.values(MEMBER_IDENTITY_ACTIONS);
  for (const [grantId, grant] of grants) {
    const at = seqs.get(grantId);
    if (at === undefined) continue;
    const change = identityChanges.find(
      (entry) => identityActions.includes(entry.action) && entry.details['member'] === grant.member && entry.seq > at.request,
    );
    if (change === undefined || statusOf(grant, new Date(change.at)) === 'expired') continue;
    // A revocation logged before the change keeps its own time.
    if (at.revoke === null || change.seq < at.revoke) grant.revokedAt = change.at;
  }
}

function statusOf(grant: SupportGrant, now: Date): SupportGrantStatus {
  if (grant.revokedAt !== null) return 'revoked';
  if (grant.expiresAt !== null) return Date.parse(grant.expiresAt) > now.getTime() ? 'active' : 'expired';
  return now.getTime() - Date.parse(grant.requestedAt) > PENDING_VALID_HOURS * HOUR_MS ? 'expired' : 'pending';
}
