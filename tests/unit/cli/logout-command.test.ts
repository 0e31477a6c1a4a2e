// `fleet logout` forgets the session kept here and ends it on the orchestrator. When the orchestrator could
// not be reached it used to say "signed out" all the same, while the token stayed valid there for hours:
// ops are now told the session was only forgotten here, and until when it may still work.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { CliContext } from '../../../orchestrator/src/cli/cli-context.ts';
import { registerLoginCommands } from '../../../orchestrator/src/cli/commands/login.ts';

const SESSION = {
  member: 'alice',
  token: ['fs1', 'not-a-real-token'].join('.'),
  expiresAt: '2026-03-02T18:00:00.000Z',
};

async function logout(serverLogout: () => Promise<void>) {
  const out: { printed: unknown[]; warnings: string[]; forgotten: boolean } = {
    printed: [],
    warnings: [],
    forgotten: false,
  };
  const context = {
    session: async () => SESSION,
    teamApi: async () => ({ logout: serverLogout }),
    forgetSession: async () => {
      out.forgotten = true;
    },
    warn: (message: string) => out.warnings.push(message),
    print: (value: unknown) => out.printed.push(value),
  } as unknown as CliContext;
  const program = new Command().exitOverride();
  registerLoginCommands(program, context);
  await program.parseAsync(['logout'], { from: 'user' });
  return out;
}

describe('fleet logout', () => {
  test('an orchestrator that cannot be reached: the session is forgotten here and ops are told it may still work there', async () => {
    const out = await logout(async () => {
      throw new FleetError('unavailable', 'the orchestrator is not running');
    });
    assert.equal(out.forgotten, true);
    assert.equal(out.warnings.length, 1);
    assert.match(
      out.warnings[0] ?? '',
      /did not confirm that the session of alice ended \(the orchestrator is not running\).*2026-03-02T18:00:00\.000Z/,
    );
    assert.deepEqual(out.printed, [{ signedOut: 'alice', endedOnOrchestrator: false }]);
  });

  test('a session the orchestrator had already ended is a plain sign-out', async () => {
    const out = await logout(async () => {
      throw new FleetError('unauthorized', 'the session is unknown or has ended');
    });
    assert.deepEqual(out.warnings, []);
    assert.deepEqual(out.printed, [{ signedOut: 'alice', endedOnOrchestrator: true }]);
  });

  test('a session ended on the orchestrator is a plain sign-out', async () => {
    const out = await logout(async () => undefined);
    assert.deepEqual(out.warnings, []);
    assert.deepEqual(out.printed, [{ signedOut: 'alice', endedOnOrchestrator: true }]);
  });
});
