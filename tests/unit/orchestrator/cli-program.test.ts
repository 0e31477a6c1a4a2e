import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Command } from 'commander';
import { CliContext, type CliIo } from '../../../orchestrator/src/cli/cli-context.ts';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { buildProgram, runCli } from '../../../orchestrator/src/cli/program.ts';

function capture(env: NodeJS.ProcessEnv): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { env, stdout, stderr, out: () => out, err: () => err };
}

function commandPaths(command: Command, prefix = ''): string[] {
  return command.commands.flatMap((sub) => {
    const name = `${prefix}${sub.name()}`;
    return [name, ...commandPaths(sub, `${name} `)];
  });
}

describe('the fleet program', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'fleet-cli-program-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  test('has every command group, and building it reads no configuration', () => {
    // An invalid setting would throw as soon as the config were loaded.
    const program = buildProgram(
      new CliContext(capture({ AGENT_FLEET_HOME: home, ORCHESTRATOR_PORT: 'not-a-port' }), 'ops@host'),
    );
    assert.deepEqual(commandPaths(program), [
      'provision',
      'status',
      'list',
      'deprovision',
      'reconcile',
      'kill',
      'revive',
      'rotate',
      'resume',
      'secrets',
      'secrets set',
      'secrets list',
      'connect',
      'approvals',
      'approvals list',
      'approvals approve',
      'approvals reject',
      'review',
      'review list',
      'review handled',
      'review retry',
      'audit',
      'audit verify',
      'audit reanchor',
      'audit accept-volume',
      'audit export',
      'support',
      'support request',
      'support revoke',
      'support list',
      'incident',
      'incident open',
      'incident list',
      'incident show',
      'incident contain',
      'incident evidence',
      'incident evidence-copy',
      'incident note',
      'incident confirm',
      'incident notify',
      'incident close',
      'incident report',
      'portal',
      'portal invite',
      'config',
      'config show',
      'config set',
      'config history',
      'config rollback',
      'config confirm',
      'export',
      'export verify',
      'export public-key',
      'backup',
      'backup list',
      'restore',
      'erase',
      'erase request',
      'erase list',
      'ops-log',
      'ops-log show',
      'ops-log verify',
      'service',
      'service start',
      'service status',
      'team',
      'team add',
      'team list',
      'team remove',
      'team reissue',
      'login',
      'logout',
      'doctor',
    ]);
    const provision = program.commands.find((command) => command.name() === 'provision');
    assert.deepEqual(
      provision?.options.map((option) => option.flags),
      ['-c, --config <file>', '--runtime <runtime>', '--confirm <rail...>'],
    );
  });

  test('the configuration is read when a command runs: a bad setting fails that command as invalid input (exit 2)', async () => {
    const io = capture({ AGENT_FLEET_HOME: home, ORCHESTRATOR_PORT: 'not-a-port' });
    assert.equal(await runCli(['node', 'fleet', 'service', 'status'], io), EXIT_CODES.invalid_input);
    assert.match(io.err(), /^fleet: invalid orchestrator configuration:\n {2}ORCHESTRATOR_PORT: /);
  });

  test('arguments are checked before anything else: a bad client id is exit 2 whatever the config', async () => {
    const io = capture({ AGENT_FLEET_HOME: home, ORCHESTRATOR_PORT: 'not-a-port' });
    assert.equal(
      await runCli(['node', 'fleet', 'kill', 'Not_A_Client', '--reason', 'test'], io),
      EXIT_CODES.invalid_input,
    );
    assert.match(io.err(), /^fleet: invalid client id "Not_A_Client"/);
  });

  test('service status: a result that is a failure sets the exit status, in human and JSON output', async () => {
    const human = capture({ AGENT_FLEET_HOME: home });
    assert.equal(await runCli(['node', 'fleet', 'service', 'status'], human), EXIT_CODES.unavailable);
    assert.equal(human.out(), 'orchestrator not running\n');
    const json = capture({ AGENT_FLEET_HOME: home });
    assert.equal(
      await runCli(['node', 'fleet', '--json', 'service', 'status'], json),
      EXIT_CODES.unavailable,
    );
    assert.deepEqual(JSON.parse(json.out()), { running: false });
  });

  test('--runtime is checked for the service it would start, without touching any environment', async () => {
    const env: NodeJS.ProcessEnv = { AGENT_FLEET_HOME: home };
    const before = { ...env };
    const processRuntime = process.env.FLEET_RUNTIME;
    const io = capture(env);
    assert.equal(
      await runCli(['node', 'fleet', 'provision', 'acme', '--runtime', 'kubernetes'], io),
      EXIT_CODES.invalid_input,
    );
    assert.match(io.err(), /VAULT_ADDR: is required with FLEET_RUNTIME=kubernetes/);
    assert.deepEqual(env, before, 'the environment given to the CLI is unchanged');
    assert.equal(process.env.FLEET_RUNTIME, processRuntime, 'the process environment is unchanged');
    assert.equal(existsSync(path.join(home, 'orchestrator.pid')), false, 'no service was started');
  });

  test('--verbose prints the cause chain under the one error line', async () => {
    const io = capture({ AGENT_FLEET_HOME: home });
    await runCli(['node', 'fleet', '--verbose', 'provision', 'acme', '--runtime', 'kubernetes'], io);
    const lines = io.err().split('\n');
    assert.match(lines[0] ?? '', /^fleet: invalid orchestrator configuration:/);
    assert.ok(
      lines.some((line) => /^ {2}caused by FleetError: invalid orchestrator configuration:/.test(line)),
      io.err(),
    );
  });
});
