import { randomBytes } from 'node:crypto';
import { generate } from 'otplib';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { TeamMembers } from '../../../orchestrator/src/services/team/team-members.ts';
import { TeamSessions } from '../../../orchestrator/src/services/team/team-sessions.ts';
import { TeamTotp } from '../../../orchestrator/src/services/team/team-totp.ts';
import { memoryTeamStore } from './memory-team-store.ts';

/**
 * The team services on a memory store, under a clock that starts on 2 March 2026 at 10:00 UTC and moves
 * only when the test advances it; ops-log entries are dropped.
 */
export function memoryTeamServices() {
  const store = memoryTeamStore();
  let now = new Date('2026-03-02T10:00:00.000Z');
  const clock = { now: () => now };
  const registry = { appendOpsLog: async () => undefined } as unknown as Registry;
  const totp = new TeamTotp({ members: store.members, clock, sealingKey: randomBytes(32) });
  const members = new TeamMembers({ store, totp, registry, clock });
  const sessions = new TeamSessions({ store, totp, registry, clock });
  return {
    store,
    clock,
    registry,
    totp,
    members,
    sessions,
    /** Moves the clock `ms` on. */
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
    /** The authenticator's code for `secret` now. */
    codeOf: (secret: string) => generate({ secret, epoch: Math.floor(now.getTime() / 1000) }),
  };
}
