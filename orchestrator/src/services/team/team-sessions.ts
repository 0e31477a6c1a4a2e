import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  isFreshSecondFactor,
  parseMemberName,
  TEAM_POLICY,
  type MemberPrincipal,
  type SignInChannel,
} from '../../domain/team-member.ts';
import { newToken, tokenHash } from '../../portal/crypto/tokens.ts';
import { OneAtATime } from '../one-at-a-time.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Registry } from '../../ports/registry.ts';
import type { StoredMember, TeamStore } from '../../ports/team-store.ts';
import type { TeamTotp } from './team-totp.ts';

/** What `fleet login` keeps (owner-only): the token is shown once and stored nowhere else in the clear. */
export interface IssuedSession {
  member: string;
  token: string;
  expiresAt: string;
  secondFactorAt: string;
}

const TOKEN_PREFIX = 'fs1.';
const WRONG = 'wrong member name or code';

export interface TeamSessionsDependencies {
  store: TeamStore;
  totp: TeamTotp;
  registry: Registry;
  clock: Clock;
  /** Called on each refused code, at sign-in or refresh (fleet_api_auth_failures_total{surface="api"}). */
  onRefused?: () => void;
}

/** What a refusal says of a lockout: on which channel, until when, and what still works. */
function lockoutText(channel: SignInChannel, until: Date): string {
  return channel === 'tcp'
    ? ` over TCP: codes over TCP are refused until ${until.toISOString()} (on the orchestrator's machine, fleet login over the local socket still works)`
    : ` on the local socket: codes there are refused until ${until.toISOString()}`;
}

/**
 * Sign-in of team members on the ops API: a TOTP code gives a session that ends after 8 h, or after an
 * hour without a request. The token is random; the registry keeps only its sha256. A session remembers
 * when its member last entered a code: work on client data needs one within the last 15 minutes.
 */
export class TeamSessions {
  private readonly deps: TeamSessionsDependencies;
  private readonly attempts = new OneAtATime();

  constructor(deps: TeamSessionsDependencies) {
    this.deps = deps;
  }

  /**
   * A new session for the member when `code` is their current code; one answer for every failure. Wrong
   * codes count per channel (the owner-only socket, TCP): guessing over TCP never locks the socket. A
   * member's attempts on one channel run one at a time, so that guesses sent together cannot outrun the
   * lockout. `channel` is where the request came in; TCP unless the caller knows it came over the socket.
   */
  async login(rawName: unknown, code: string, channel: SignInChannel = 'tcp'): Promise<IssuedSession> {
    const name = parseMemberName(rawName);
    return this.counted(this.attempts.run(`${channel}:${name}`, () => this.attemptLogin(name, code, channel)));
  }

  private async attemptLogin(name: string, code: string, channel: SignInChannel): Promise<IssuedSession> {
    const { members, sessions } = this.deps.store;
    const now = this.deps.clock.now();
    const member = await members.getMember(name);
    if (member === null) throw new FleetError('unauthorized', WRONG);
    const locked = await members.lockedUntil(name, channel, now);
    if (locked)
      throw new FleetError('unauthorized', `too many wrong codes for ${name}${lockoutText(channel, locked)}`);
    if (member.totpSealed === null)
      throw new FleetError(
        'unauthorized',
        `${name} has not set up an authenticator yet: fleet login ${name} --enrol`,
      );
    if (!(await this.deps.totp.accept(member, code))) {
      const lockedNow = await members.recordFailure(name, channel, now, TEAM_POLICY.lockout);
      throw new FleetError(
        'unauthorized',
        lockedNow ? `${WRONG}; too many for ${name}${lockoutText(channel, lockedNow)}` : WRONG,
      );
    }
    await members.clearFailures(name, channel);
    const token = `${TOKEN_PREFIX}${newToken()}`;
    const at = now.toISOString();
    const expiresAt = new Date(now.getTime() + TEAM_POLICY.sessionAbsoluteMs).toISOString();
    await sessions.createSession({
      tokenHash: tokenHash(token),
      member: name,
      createdAt: at,
      lastSeenAt: at,
      expiresAt,
      secondFactorAt: at,
    });
    await this.dropIfIdentityChanged(token, member);
    await this.log(name, 'team-login', { expiresAt, firstSignIn: member.status === 'enrolling' });
    return { member: name, token, expiresAt, secondFactorAt: at };
  }

  /**
   * The code was checked against the member as read before it: a removal or a reissue (a lost
   * authenticator) that ended the member's sessions meanwhile would miss the session created after it.
   * Read again once it exists: then any later removal or reissue ends it, and an earlier one is seen here.
   */
  private async dropIfIdentityChanged(token: string, checked: StoredMember): Promise<void> {
    const current = await this.deps.store.members.getMember(checked.name);
    if (current !== null && current.totpSealed === checked.totpSealed) return;
    await this.deps.store.sessions.deleteSession(tokenHash(token));
    throw new FleetError('unauthorized', WRONG);
  }

  /** The member behind a bearer token, or null when the token is unknown, expired or idle too long. */
  async authenticate(token: string): Promise<MemberPrincipal | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const hash = tokenHash(token);
    const session = await this.deps.store.sessions.getSession(hash);
    if (session === null) return null;
    const now = this.deps.clock.now();
    const idle = now.getTime() - Date.parse(session.lastSeenAt) > TEAM_POLICY.sessionIdleMs;
    if (idle || Date.parse(session.expiresAt) <= now.getTime()) {
      await this.deps.store.sessions.deleteSession(hash);
      return null;
    }
    await this.deps.store.sessions.touchSession(hash, now);
    return {
      member: session.member,
      sessionExpiresAt: session.expiresAt,
      secondFactorAt: session.secondFactorAt,
      freshSecondFactor: isFreshSecondFactor(session.secondFactorAt, now),
    };
  }

  /**
   * A code entered again in the session (`fleet login --refresh`, `--code`): client data is open for 15
   * minutes. Wrong codes count on the channel of the request, as at sign-in.
   */
  async refreshSecondFactor(
    token: string,
    code: string,
    channel: SignInChannel = 'tcp',
  ): Promise<MemberPrincipal> {
    const principal = await this.authenticate(token);
    if (principal === null) throw new FleetError('unauthorized', 'no session: fleet login');
    return this.counted(
      this.attempts.run(`${channel}:${principal.member}`, () => this.attemptRefresh(token, principal, code, channel)),
    );
  }

  /** Counts a refusal of the attempt (any other failure is not a refused authentication). */
  private async counted<T>(attempt: Promise<T>): Promise<T> {
    try {
      return await attempt;
    } catch (error) {
      if (isFleetError(error) && error.code === 'unauthorized') this.deps.onRefused?.();
      throw error;
    }
  }

  private async attemptRefresh(
    token: string,
    principal: MemberPrincipal,
    code: string,
    channel: SignInChannel,
  ): Promise<MemberPrincipal> {
    const member = await this.deps.store.members.getMember(principal.member);
    const now = this.deps.clock.now();
    const locked = member && (await this.deps.store.members.lockedUntil(member.name, channel, now));
    if (locked)
      throw new FleetError(
        'unauthorized',
        `too many wrong codes for ${principal.member}${lockoutText(channel, locked)}`,
      );
    if (member === null || !(await this.deps.totp.accept(member, code))) {
      if (member) await this.deps.store.members.recordFailure(member.name, channel, now, TEAM_POLICY.lockout);
      throw new FleetError('unauthorized', 'wrong code (a code is accepted once; wait for the next one)');
    }
    await this.deps.store.members.clearFailures(member.name, channel);
    await this.deps.store.sessions.markSecondFactor(tokenHash(token), now);
    await this.log(member.name, 'team-second-factor', {});
    return { ...principal, secondFactorAt: now.toISOString(), freshSecondFactor: true };
  }

  async logout(token: string, member: string): Promise<void> {
    await this.deps.store.sessions.deleteSession(tokenHash(token));
    await this.log(member, 'team-logout', {});
  }

  private async log(member: string, action: string, details: Record<string, unknown>): Promise<void> {
    await this.deps.registry.appendOpsLog({
      actor: member,
      action,
      clientId: null,
      reason: null,
      outcome: 'success',
      details,
    });
  }
}
