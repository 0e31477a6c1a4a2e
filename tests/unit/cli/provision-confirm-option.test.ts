// `fleet provision --confirm <rail...>` and `make provision CONFIRM="…"`: the guard rails a provisioned config
// crosses can be confirmed at provisioning (the doctor reads the confirmation), each id checked before the
// service is reached, the API's body bounded, and the output names the rails left unconfirmed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { formatProvisionGuardRails, provisionConfirmations } from '../../../orchestrator/src/cli/commands/provision-guard-rails.ts';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { FleetApiClient } from '../../../orchestrator/src/cli/fleet-api-client.ts';
import type { OrchestratorClient } from '../../../orchestrator/src/cli/orchestrator-client.ts';
import { provisionWithProgress } from '../../../orchestrator/src/cli/provision-progress.ts';
import { provisionBodySchema } from '../../../orchestrator/src/http/request-schemas.ts';
import type { ProvisionResult } from '../../../orchestrator/src/services/provision-client.ts';
import { runFleetCliBeforeService as fleet } from '../../helpers/fleet-cli.ts';
import { invalidInputMessage as refusal } from '../../helpers/refused.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');

function provisioned(guardRails: NonNullable<Extract<ProvisionResult, { outcome: 'provisioned' }>['guardRails']>): ProvisionResult {
  return {
    outcome: 'provisioned',
    clientId: parseClientId('acme'),
    runtime: 'docker',
    controlAddress: '10.0.0.2:8080',
    metricsAddress: '10.0.0.2:9464',
    subnet: '10.0.0.0/28',
    steps: [],
    warnings: [],
    guardRails,
  };
}

describe('fleet provision --confirm', () => {
  test('each value is a guard-rail id, each kept once; anything else is refused by the option name', () => {
    assert.deepEqual(provisionConfirmations(undefined), []);
    assert.deepEqual(provisionConfirmations(['permissions.mail.send', 'rateLimits.perHour', 'permissions.mail.send']), ['permissions.mail.send', 'rateLimits.perHour']);
    assert.deepEqual(provisionConfirmations(['onboarding.ended_early', 'approval.new_contact', 'bulkThreshold']), ['onboarding.ended_early', 'approval.new_contact', 'bulkThreshold']);
    for (const value of ['', '--help', 'permissions.mail.send rateLimits.perHour', 'a..b', '.a', 'a.', 'rm -rf', 'x'.repeat(101), 'a.b.c.d.e']) {
      assert.match(refusal(() => provisionConfirmations([value])), /^--confirm: .* is not a guard-rail id/, value);
    }
    assert.match(refusal(() => provisionConfirmations(Array.from({ length: 51 }, (_, index) => `rail${index}`))), /at most 50/);
  });

  test('the option repeats and is checked before the service is reached', async () => {
    const refused = await fleet('provision', '--confirm=permissions.mail.send', '--confirm=not a rail', '--', 'acme');
    assert.equal(refused.code, EXIT_CODES.invalid_input);
    assert.match(refused.err, /--confirm: "not a rail" is not a guard-rail id/);
    // Past the option checks: these reach the (invalid) configuration.
    for (const args of [
      ['provision', '--confirm=permissions.mail.send', '--confirm=rateLimits.perHour', '--', 'acme'],
      ['provision', 'acme', '--confirm', 'permissions.mail.send', 'rateLimits.perHour'],
    ]) {
      const { code, err } = await fleet(...args);
      assert.equal(code, EXIT_CODES.invalid_input, args.join(' '));
      assert.match(err, /invalid orchestrator configuration/, args.join(' '));
    }
  });

  test('the confirmations reach the API in the provision body, with the actor', async () => {
    const sent: unknown[] = [];
    const transport = {
      stream: async (_path: string, body: unknown, onLine: (line: unknown) => void) => {
        sent.push(body);
        onLine({ plan: [] });
        onLine({ result: { outcome: 'already-active', clientId: 'acme' } });
      },
    } as unknown as OrchestratorClient;
    const api = new FleetApiClient(transport, 'ops-alice');
    await provisionWithProgress(api, parseClientId('acme'), { confirm: ['permissions.mail.send'] } as Parameters<typeof api.provision>[1], null);
    assert.deepEqual(sent, [{ confirm: ['permissions.mail.send'], actor: 'ops-alice' }]);
  });

  test('the output names the rails confirmed and each one left unconfirmed, with how to confirm it later', () => {
    const text = formatProvisionGuardRails(
      provisioned({ confirmed: ['permissions.mail.send'], unconfirmed: [{ id: 'rateLimits.perHour', field: 'rateLimits.perHour', risk: 'More than 20 recipients an hour' }] }),
    ).join('\n');
    assert.match(text, /confirmed: permissions\.mail\.send/);
    assert.match(text, /NOT confirmed .*fleet doctor acme/);
    assert.match(text, /rateLimits\.perHour \(rateLimits\.perHour\): More than 20 recipients an hour/);
    assert.match(text, /fleet config confirm acme rateLimits\.perHour --reason "…"/);
    assert.deepEqual(formatProvisionGuardRails(provisioned({ confirmed: [], unconfirmed: [] })), [], 'nothing to say when no rail is crossed');
  });
});

describe('the provision body the API accepts', () => {
  test('confirm is a bounded list of guard-rail ids, empty by default', () => {
    assert.deepEqual(provisionBodySchema.parse({}).confirm, []);
    assert.deepEqual(provisionBodySchema.parse({ confirm: ['permissions.mail.send'] }).confirm, ['permissions.mail.send']);
    for (const confirm of ['permissions.mail.send', [1], ['a b'], ['x'.repeat(101)], ['<script>'], Array.from({ length: 51 }, () => 'bulkThreshold')]) {
      assert.equal(provisionBodySchema.safeParse({ confirm }).success, false, JSON.stringify(confirm).slice(0, 60));
    }
  });
});

describe('make provision CONFIRM="…"', () => {
  let dir: string;
  let fakeFleet: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-make-confirm-'));
    fakeFleet = path.join(dir, 'fleet-argv.mjs');
    await writeFile(fakeFleet, 'process.stdout.write(JSON.stringify(process.argv.slice(2)));\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  function provisionArgv(...args: string[]): string[] {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'CLIENT', 'REASON', 'PURGE', 'CONFIRM']) delete env[name];
    const result = spawnSync(
      'make',
      ['-s', '-o', 'node_modules/.package-lock.json', '-o', 'system', '-o', 'images', `FLEET=${process.execPath} ${fakeFleet}`, 'provision', ...args],
      { cwd: REPO, env, encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout) as string[];
  }

  test('each blank-separated rail becomes its own --confirm, passed as typed; without CONFIRM nothing changes', () => {
    assert.deepEqual(provisionArgv('CLIENT=acme'), ['provision', '--', 'acme']);
    assert.deepEqual(provisionArgv('CLIENT=acme', 'CONFIRM=permissions.mail.send rateLimits.perHour'), [
      'provision',
      '--confirm=permissions.mail.send',
      '--confirm=rateLimits.perHour',
      '--',
      'acme',
    ]);
    const marker = path.join(dir, 'pwned');
    assert.deepEqual(provisionArgv('CLIENT=acme', `CONFIRM=it's $$x $(shell touch ${marker}) --help`), [
      'provision',
      "--confirm=it's",
      '--confirm=$$x',
      '--confirm=$(shell',
      '--confirm=touch',
      `--confirm=${marker})`,
      '--confirm=--help',
      '--',
      'acme',
    ]);
  });
});
