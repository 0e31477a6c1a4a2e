// Team members for tests that drive the ops API or the `fleet` CLI: every change on the API is made by a
// signed-in member now. A member is added and enrolled through the orchestrator's own team services (the
// first one as the socket bootstrap would), signs in with a real TOTP code, and can hand the session to
// the CLI (the owner-only session file under the fleet home) or to an API client.
import { setTimeout as sleep } from 'node:timers/promises';
import { generate } from 'otplib';
import { OrchestratorClient } from '../../orchestrator/src/cli/orchestrator-client.ts';
import { writeCliSession } from '../../orchestrator/src/cli/session-file.ts';
import type { Orchestrator } from '../../orchestrator/src/orchestrator.ts';

const STEP_SECONDS = 30;
/** How long a code must stay valid after it is made: the sign-in checks it later on a loaded machine. */
const CODE_MARGIN_MS = 10_000;

/** The end of the time during which the orchestrator accepts the code of `step` (one step either side). */
const acceptedUntilMs = (step: number): number => (step + 2) * STEP_SECONDS * 1000;

export interface TestMember {
  name: string;
  email: string;
  /** The TOTP secret of the member's "authenticator app". */
  secret: string;
  /** The session token of the member's last sign-in. */
  token: string;
  expiresAt: string;
  /** A code the orchestrator has not seen yet (codes are single-use: the next time step, waiting if need be). */
  nextCode(): Promise<string>;
  /** Signs in again (a fresh second factor); the new token replaces `token` (and the CLI's session). */
  signIn(): Promise<void>;
  /** Signs in again when the last sign-in is older than 10 minutes: client data needs a code within 15. */
  keepFresh(): Promise<void>;
  /** The ops API on the fleet's unix socket as this member. */
  api(socketPath: string, homeDir: string): OrchestratorClient;
  /** Makes this member the one signed in for `fleet` commands run with this fleet home. */
  useForCli(homeDir: string): Promise<void>;
}

/**
 * Adds (the first member: as the socket bootstrap), enrols and signs in a team member. `now` is the
 * orchestrator's clock (a test's own clock when it has one).
 */
export async function enrolMember(
  orchestrator: Orchestrator,
  name: string,
  options: { email?: string; now?: () => Date } = {},
): Promise<TestMember> {
  const now = options.now ?? (() => new Date());
  const email = options.email ?? `${name.replace(/[^a-z0-9]/g, '-')}@agency.example`;
  const bootstrap = (await orchestrator.team.members.count()) === 0;
  const added = await orchestrator.team.members.add({ name, email, actor: 'test', bootstrap });
  const { secret } = await orchestrator.team.members.enrol({ name, code: added.enrolment.code });
  let lastStep = 0;
  let signedInAt = 0;
  let cliHome: string | null = null;
  const nextCode = async (): Promise<string> => {
    for (;;) {
      const nowMs = now().getTime();
      const current = Math.floor(nowMs / 1000 / STEP_SECONDS);
      // The orchestrator accepts one step either side of its now, each step once. A step is taken only
      // when it is still accepted a margin later: the previous step chosen just before a step boundary was
      // refused when the sign-in reached the check after it (a failing CI run).
      for (let step = Math.max(current - 1, lastStep + 1); step <= current + 1; step += 1) {
        if (acceptedUntilMs(step) - nowMs >= CODE_MARGIN_MS) {
          lastStep = step;
          return generate({ secret, epoch: step * STEP_SECONDS });
        }
      }
      await sleep(1000);
    }
  };
  const member: TestMember = {
    name,
    email,
    secret,
    token: '',
    expiresAt: '',
    nextCode,
    async signIn() {
      const session = await orchestrator.team.sessions.login(name, await nextCode());
      member.token = session.token;
      member.expiresAt = session.expiresAt;
      signedInAt = now().getTime();
      if (cliHome !== null) await member.useForCli(cliHome);
    },
    async keepFresh() {
      if (now().getTime() - signedInAt > 10 * 60_000) await member.signIn();
    },
    api: (socketPath, homeDir) => new OrchestratorClient({ socketPath, homeDir, sessionToken: member.token }),
    async useForCli(homeDir) {
      cliHome = homeDir;
      await writeCliSession(homeDir, { member: name, token: member.token, expiresAt: member.expiresAt });
    },
  };
  await member.signIn();
  return member;
}

/** The usual set-up: one member signed in for `fleet` commands and API clients of this fleet home. */
export async function signInForCli(
  orchestrator: Orchestrator,
  homeDir: string,
  name = 'ops@test',
): Promise<TestMember> {
  const member = await enrolMember(orchestrator, name);
  await member.useForCli(homeDir);
  return member;
}
