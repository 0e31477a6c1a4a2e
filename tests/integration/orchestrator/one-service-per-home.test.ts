// One orchestrator service per fleet home. Several `fleet` commands typed at once on a fresh machine each
// start the service when none answers; before the home lock, two services opened the embedded registry
// together and PGlite's data directory was corrupted for good (no service started on that home again).
// Real processes: the `fleet` CLI and the service it starts, on a home of their own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../helpers/free-port.ts';
import { HOME_HELD_EXIT_CODE } from '../../../orchestrator/src/adapters/process/home-lock.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(REPO_ROOT, 'orchestrator/src/cli/main.ts');
const SERVICE = path.join(REPO_ROOT, 'orchestrator/src/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function servicePid(home: string): Promise<number> {
  return Number.parseInt(await readFile(path.join(home, 'orchestrator.pid'), 'utf8'), 10);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopService(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 20_000 && isAlive(pid); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(isAlive(pid), false, 'the service stopped on SIGTERM');
}

function startedLines(log: string): string[] {
  return log.split('\n').filter((line) => line.includes('"message":"orchestrator started"'));
}

describe('one orchestrator service per fleet home', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'fleet-home-'));
    const inherited: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!/^(FLEET_|VAULT_|AGENT_|ORCHESTRATOR_|PORTAL_|EMBEDDED_|DATABASE_URL|KUBECONFIG)/.test(name)) inherited[name] = value;
    }
    env = {
      ...inherited,
      AGENT_FLEET_HOME: home,
      ORCHESTRATOR_PORT: String(await freePort()),
      EMBEDDED_VAULT_PORT: String(await freePort()),
      PORTAL_PORT: String(await freePort()),
      FLEET_EGRESS_PROXY_PORT: String(await freePort()),
    };
  });
  after(async () => {
    const pid = await servicePid(home).catch(() => undefined);
    if (pid !== undefined) await stopService(pid);
    await rm(home, { recursive: true, force: true });
  });

  test('three commands at once on a fresh home: each answered by the one service that started', async () => {
    const runs = await Promise.all([1, 2, 3].map(() => run(CLI, ['list'], env)));
    for (const result of runs) {
      assert.equal(result.code, 0, `fleet list: ${result.stderr}`);
      assert.match(result.stdout, /no clients yet/);
    }
    const log = await readFile(path.join(home, 'orchestrator.log'), 'utf8');
    assert.equal(startedLines(log).length, 1, 'one service started');
    assert.equal(isAlive(await servicePid(home)), true);
  });

  test('a service started by hand beside it refuses the home with its own exit status, and the first keeps serving', async () => {
    const pid = await servicePid(home);
    const second = await run(SERVICE, [], env);
    assert.equal(second.code, HOME_HELD_EXIT_CODE);
    assert.match(second.stdout + second.stderr, /another orchestrator service is already using/);
    assert.equal(isAlive(pid), true);
    const listed = await run(CLI, ['list'], env);
    assert.equal(listed.code, 0, listed.stderr);
  });

  test('after the service stops, the next command starts it again on the same registry, without the work a crash left', async () => {
    await stopService(await servicePid(home));
    // What a service killed in the middle of sealing incident evidence and of an export leaves behind.
    const work = path.join(home, 'incidents', 'INC-1', '.work-crash');
    const spool = path.join(home, 'spool', 'fleet-export-spool-crash');
    await mkdir(work, { recursive: true });
    await mkdir(spool, { recursive: true });
    await writeFile(path.join(work, 'bundle.tar'), 'plaintext evidence');
    const listed = await run(CLI, ['list'], env);
    assert.equal(listed.code, 0, `the registry opens again: ${listed.stderr}`);
    const log = await readFile(path.join(home, 'orchestrator.log'), 'utf8');
    assert.equal(startedLines(log).length, 2);
    await assert.rejects(stat(work), { code: 'ENOENT' });
    await assert.rejects(stat(spool), { code: 'ENOENT' });
  });
});
