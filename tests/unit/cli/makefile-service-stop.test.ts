// `make service-stop` used to send SIGTERM to whatever number the fleet home's orchestrator.pid held. That
// file outlives a service that crashed, was killed or went down with the host, and by then its number may be
// another process's, which was stopped in the service's place; a file holding 0 signalled make's own
// process group. Here make runs the target against a temporary home; each process it might signal is one
// this test started, and make runs in a process group of its own.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

const REPO = path.resolve(import.meta.dirname, '../../..');

interface MakeResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function makeServiceStop(home: string): Promise<MakeResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, AGENT_FLEET_HOME: home };
  for (const name of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES']) delete env[name];
  // detached: its own process group, so a `kill 0` in the recipe could reach make and never this runner.
  const child = spawn('make', ['-s', 'service-stop'], { cwd: REPO, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
}

/** A process that lives until it is signalled or the test ends it. */
function longLived(args: string[]): ChildProcess {
  return spawn(process.execPath, args, { stdio: 'ignore' });
}

const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

describe('make service-stop signals the orchestrator service only', () => {
  let home: string;
  const started: ChildProcess[] = [];
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'fleet-stop-'));
  });
  after(async () => {
    for (const child of started) if (alive(child)) child.kill('SIGKILL');
    await rm(home, { recursive: true, force: true });
  });

  test('a stale pid file naming another process leaves that process running', async () => {
    const unrelated = longLived(['-e', 'setInterval(() => {}, 1000)']);
    started.push(unrelated);
    await writeFile(path.join(home, 'orchestrator.pid'), `${unrelated.pid}\n`);
    const result = await makeServiceStop(home);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(alive(unrelated), 'the unrelated process was not signalled');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /orchestrator not running \(process \d+ of the stale .*orchestrator\.pid is not the service; left alone\)/);
  });

  test('a pid file holding no process id (0, a negative number, text) is refused by name, and nothing is signalled', async () => {
    for (const content of ['0\n', '-1\n', `-${process.pid}\n`, 'not a pid\n', '']) {
      await writeFile(path.join(home, 'orchestrator.pid'), content);
      const result = await makeServiceStop(home);
      assert.equal(result.signal, null, `${JSON.stringify(content)}: make was not signalled`);
      assert.equal(result.status, 2, `${JSON.stringify(content)}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /orchestrator\.pid does not hold a process id: delete it if no orchestrator runs/);
    }
  });

  test('the orchestrator service named by the pid file is stopped', async () => {
    const entry = path.join(home, 'checkout', 'orchestrator', 'src', 'main.ts');
    await mkdir(path.dirname(entry), { recursive: true });
    await writeFile(entry, 'setInterval(() => {}, 1000);\n');
    const service = longLived([entry]);
    started.push(service);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => service.on('exit', (_code, signal) => resolve(signal)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await writeFile(path.join(home, 'orchestrator.pid'), `${service.pid}\n`);
    const result = await makeServiceStop(home);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'orchestrator stopped\n');
    assert.equal(await exited, 'SIGTERM');
  });

  test('no pid file: not running', async () => {
    await rm(path.join(home, 'orchestrator.pid'), { force: true });
    const result = await makeServiceStop(home);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'orchestrator not running\n');
  });
});
