import type { Command } from 'commander';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { CliContext } from '../cli-context.ts';
import { formatEnrolmentSecret, formatSignedIn } from '../format/team.ts';
import { readSecretInput } from '../secret-input.ts';

const CODE_PROMPT = 'code from your authenticator app: ';

/**
 * login, logout: a member's session on the ops API. `fleet login <member>` asks for a code (or takes
 * `--code`) and keeps the session owner-only in the fleet home; `--enrol` first sets up the authenticator
 * with the enrolment code a team member gave; `--refresh` enters a code again in the running session.
 */
export function registerLoginCommands(program: Command, context: CliContext): void {
  program
    .command('login')
    .description('sign in as a team member with a code from your authenticator app (--code <code>, or asked)')
    .argument('[member]', 'your member name (not needed with --refresh)')
    .option('--enrol', 'first set up your authenticator with the enrolment code you were given')
    .option('--enrolment-code <code>', 'the enrolment code (default: asked, not echoed)')
    .option('--refresh', 'enter a code again in the current session: client data opens for 15 minutes')
    .action(
      async (
        member: string | undefined,
        options: { enrol?: boolean; enrolmentCode?: string; refresh?: boolean },
      ) => {
        const code = context.takeCode();
        const api = await context.teamApi();
        if (options.refresh) {
          const refreshed = await api.refreshSecondFactor(code ?? (await readSecretInput(CODE_PROMPT)));
          context.print(
            refreshed,
            () => `${refreshed.member}: client data open until 15 minutes after ${refreshed.secondFactorAt}`,
          );
          return;
        }
        if (member === undefined)
          throw new FleetError('invalid_input', 'name the member to sign in as: fleet login <member>');
        if (options.enrol) {
          const enrolmentCode = options.enrolmentCode ?? (await readSecretInput('enrolment code: '));
          const enrolment = await api.enrol(member, enrolmentCode);
          if (code === undefined && !process.stdin.isTTY) {
            context.print(
              enrolment,
              () =>
                `${formatEnrolmentSecret(enrolment)}\nthen sign in with a code from the app: fleet login ${member} --code <code>`,
            );
            return;
          }
          context.printAs(false, enrolment, () => formatEnrolmentSecret(enrolment));
        }
        const session = await api.login(member, code ?? (await readSecretInput(CODE_PROMPT)));
        await context.saveSession({
          member: session.member,
          token: session.token,
          expiresAt: session.expiresAt,
        });
        context.print(
          { member: session.member, expiresAt: session.expiresAt, secondFactorAt: session.secondFactorAt },
          () => formatSignedIn(session),
        );
      },
    );

  program
    .command('logout')
    .description('end the session kept here')
    .action(async () => {
      const session = await context.session();
      const notEnded = session === null ? null : await endOnOrchestrator(context);
      await context.forgetSession();
      if (session !== null && notEnded !== null)
        context.warn(
          `the orchestrator did not confirm that the session of ${session.member} ended (${notEnded}); it is forgotten here, and on the orchestrator it ends after an hour without requests, at the latest ${session.expiresAt}`,
        );
      context.print(
        { signedOut: session?.member ?? null, endedOnOrchestrator: session !== null && notEnded === null },
        () => (session === null ? 'nobody was signed in here' : `${session.member} signed out`),
      );
    });
}

/**
 * Ends the session kept here on the orchestrator: null when it ended (or had ended already), else why not.
 * The token is forgotten here either way, but ops must know it may still work elsewhere until it expires.
 */
async function endOnOrchestrator(context: CliContext): Promise<string | null> {
  try {
    await (await context.teamApi()).logout();
    return null;
  } catch (error) {
    if (isFleetError(error) && error.code === 'unauthorized') return null;
    return error instanceof Error ? error.message : String(error);
  }
}
