import { hkdfSync } from 'node:crypto';
import path from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { loadOrCreateMasterKey } from './adapters/embedded-vault/encrypted-file-store.ts';
import type { Clock } from './ports/clock.ts';
import type { Registry } from './ports/registry.ts';
import type { TeamStore } from './ports/team-store.ts';
import { TeamMembers } from './services/team/team-members.ts';
import { TeamSessions } from './services/team/team-sessions.ts';
import { TeamTotp } from './services/team/team-totp.ts';

/** The team's identities: who they are and their sessions on the ops API. */
export interface TeamAccess {
  members: TeamMembers;
  sessions: TeamSessions;
}

const unavailable = (): never => {
  throw new FleetError(
    'unavailable',
    'team identities are kept in the registry database, and this orchestrator was given no team store',
  );
};

/** The store of an orchestrator whose registry came from outside without one: nobody can sign in. */
const unavailableTeamStore: TeamStore = {
  members: {
    addMember: async () => unavailable(),
    getMember: async () => null,
    listMembers: async () => [],
    removeMember: async () => unavailable(),
    removeMemberUnlessLast: async () => unavailable(),
    createEnrolment: async () => unavailable(),
    consumeEnrolment: async () => false,
    setTotpSecret: async () => unavailable(),
    recordTotpUse: async () => false,
    lockedUntil: async () => null,
    recordFailure: async () => null,
    clearFailures: async () => undefined,
  },
  sessions: {
    createSession: async () => unavailable(),
    getSession: async () => null,
    touchSession: async () => undefined,
    markSecondFactor: async () => unavailable(),
    deleteSession: async () => undefined,
    endSessions: async () => 0,
  },
};

/**
 * Wires team identities. TOTP secrets are sealed under a key derived from `<home>/team/master.key`
 * (0600, created at first start, refused when others can read it), kept apart from the registry so that a
 * copy of the database alone opens no authenticator.
 */
export async function composeTeam(parts: {
  homeDir: string;
  store: TeamStore | undefined;
  registry: Registry;
  clock: Clock;
  /** Counts a refused `fleet login` (a wrong code, an unknown member, a lockout). */
  onAuthRefused?: (() => void) | undefined;
}): Promise<TeamAccess> {
  const master = await loadOrCreateMasterKey(path.join(parts.homeDir, 'team'));
  const sealingKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'agent-fleet team totp', 32));
  const store = parts.store ?? unavailableTeamStore;
  const totp = new TeamTotp({ members: store.members, clock: parts.clock, sealingKey });
  return {
    members: new TeamMembers({ store, totp, registry: parts.registry, clock: parts.clock, onRefused: parts.onAuthRefused }),
    sessions: new TeamSessions({ store, totp, registry: parts.registry, clock: parts.clock, onRefused: parts.onAuthRefused }),
  };
}
