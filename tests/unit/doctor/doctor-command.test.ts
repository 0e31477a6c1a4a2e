// `fleet doctor` as the command runs it, against a fake of the team API: an attestation that was recorded
// exits 0 whatever else is open (and says it was recorded), one refused exits with its refusal's status,
// and a checklist run exits 4 while a required item failed and 8 while items are only pending.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { CliContext } from '../../../orchestrator/src/cli/cli-context.ts';
import { registerDoctorCommands } from '../../../orchestrator/src/cli/commands/doctor.ts';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import type { TeamApiClient } from '../../../orchestrator/src/cli/team-api-client.ts';
import {
  onboardingReport,
  ONBOARDING_ITEMS,
  type ItemOutcome,
  type OnboardingReport,
} from '../../../orchestrator/src/domain/onboarding-checklist.ts';

const NOW = new Date('2026-06-10T12:00:00.000Z');

/** Every item passed but the week-1 call, still to attest; dpa attested by bob. */
function stillOpen(open: ItemOutcome = { status: 'pending', evidence: ['not attested'] }): OnboardingReport {
  const outcomes = Object.fromEntries(
    ONBOARDING_ITEMS.map((item): [string, ItemOutcome] => [
      item.id,
      item.id === 'week1-review-call'
        ? open
        : {
            status: 'pass',
            evidence: [item.id === 'dpa' ? 'attested by bob at 2026-06-10T12:00:00.000Z: DMS 4411' : 'seen'],
          },
    ]),
  );
  return onboardingReport('acme', NOW, 'bob', outcomes);
}

type FakeApi = Pick<TeamApiClient, 'attest' | 'doctor'>;

/** The real context, its API a fake: what the command prints and the status it sets are the real ones. */
class FakeApiContext extends CliContext {
  readonly #api: FakeApi;
  constructor(api: FakeApi, out: PassThrough) {
    super({ env: {}, stdout: out, stderr: new PassThrough() }, 'bob');
    this.#api = api;
  }
  override async teamApi(): Promise<TeamApiClient> {
    return this.#api as TeamApiClient;
  }
}

async function run(
  api: FakeApi,
  ...args: string[]
): Promise<{ status: number; out: string; error: unknown }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const context = new FakeApiContext(api, out);
  const program = new Command().exitOverride();
  registerDoctorCommands(program, context);
  let error: unknown = null;
  try {
    await program.parseAsync(['node', 'fleet', 'doctor', 'acme', ...args]);
  } catch (caught) {
    error = caught;
  }
  return { status: context.exitCode, out: Buffer.concat(chunks).toString('utf8'), error };
}

const unused = async (): Promise<never> => {
  throw new Error('not asked in this test');
};

describe('fleet doctor --attest', () => {
  test('a recorded attestation exits 0 while other items are open, and says it was recorded', async () => {
    const result = await run(
      { attest: async () => stillOpen(), doctor: unused },
      '--attest',
      'dpa',
      '--note',
      'DMS 4411',
    );
    assert.equal(result.error, null);
    assert.equal(result.status, 0);
    assert.match(result.out, /^recorded: dpa: attested by bob/);
    assert.match(result.out, /1 of 14 required item\(s\) pending/);
  });

  test('a refused attestation fails with the refusal, not as an open checklist', async () => {
    const refused = async (): Promise<never> => {
      throw new FleetError(
        'invalid_input',
        'rate-limits is checked by the doctor against the live system, not attested',
      );
    };
    const result = await run({ attest: refused, doctor: unused }, '--attest', 'rate-limits', '--note', 'n');
    assert.ok(result.error instanceof FleetError);
    assert.equal(result.error.code, 'invalid_input');
  });
});

describe('fleet doctor', () => {
  test('exits 8 while required items are only pending', async () => {
    const result = await run({ attest: unused, doctor: async () => stillOpen() });
    assert.equal(result.error, null);
    assert.equal(result.status, 8);
  });

  test('exits with the conflict status while a required item failed', async () => {
    const result = await run({ attest: unused, doctor: async () => stillOpen({ status: 'fail', evidence: ['no call on record'] }) });
    assert.equal(result.status, EXIT_CODES.conflict);
  });
});
