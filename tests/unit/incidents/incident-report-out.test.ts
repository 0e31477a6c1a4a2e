// `fleet incident report --out <file>` asked the service for the report before looking at the file: an
// existing file failed only afterwards, as a raw EEXIST, and the report was written in place (a full disk or
// a crash left a torn report under the final name). The incident id of every incident command was checked
// only after the service had been started. Now the id and the file are checked first, and the report is
// written to a temp file and linked into place, never replacing a file.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { checkedNewFile, writeNewFileAtomically } from '../../../orchestrator/src/cli/commands/incident-report-file.ts';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { IncidentApiClient } from '../../../orchestrator/src/cli/incident-api-client.ts';
import type { OrchestratorClient } from '../../../orchestrator/src/cli/orchestrator-client.ts';
import { runFleetCliWithEnv, type FleetCliRun } from '../../helpers/fleet-cli.ts';

/** `fleet …` in process with an invalid setting: a command that got past its own checks fails on the config. */
function fleet(...args: string[]): Promise<FleetCliRun> {
  return runFleetCliWithEnv({ AGENT_FLEET_HOME: os.tmpdir(), ORCHESTRATOR_PORT: 'not-a-port' }, ...args);
}

describe('incident report --out', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-incident-report-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('an existing file (or a dangling link) is a conflict before the service is asked, and is left as it was', async () => {
    const existing = path.join(dir, 'report.md');
    await writeFile(existing, 'kept');
    await symlink(path.join(dir, 'nowhere'), path.join(dir, 'dangling.html'));
    for (const out of [existing, path.join(dir, 'dangling.html')]) {
      const result = await fleet('incident', 'report', 'INC-7', '--out', out);
      assert.equal(result.code, EXIT_CODES.conflict, result.err);
      assert.equal(result.err, `fleet: ${out} already exists: choose another file name\n`);
    }
    assert.equal(await readFile(existing, 'utf8'), 'kept');
  });

  test('an empty --out, or a directory that is not there, is refused before the service is asked', async () => {
    const empty = await fleet('incident', 'report', 'INC-7', '--out', '');
    assert.equal(empty.code, EXIT_CODES.invalid_input, empty.err);
    assert.match(empty.err, /^fleet: --out names no file/);
    const missing = path.join(dir, 'no-such-dir', 'report.md');
    const result = await fleet('incident', 'report', 'INC-7', '--out', missing);
    assert.equal(result.code, EXIT_CODES.invalid_input, result.err);
    assert.match(result.err, /^fleet: cannot write .*no-such-dir\/report\.md: ENOENT/);
  });

  test('evidence-copy checks its --out the same way before the service is asked', async () => {
    const existing = path.join(dir, 'bundle.tar');
    await writeFile(existing, 'kept');
    const taken = await fleet('incident', 'evidence-copy', 'INC-7', '--out', existing);
    assert.equal(taken.code, EXIT_CODES.conflict, taken.err);
    assert.equal(taken.err, `fleet: ${existing} already exists: choose another file name\n`);
    assert.equal(await readFile(existing, 'utf8'), 'kept');
    const empty = await fleet('incident', 'evidence-copy', 'INC-7', '--out', ' ');
    assert.equal(empty.code, EXIT_CODES.invalid_input, empty.err);
    assert.match(empty.err, /^fleet: --out names no file/);
  });

  test('a new file in a writable directory passes the CLI (and then needs the service)', async () => {
    const result = await fleet('incident', 'report', 'INC-7', '--out', path.join(dir, 'new.md'));
    assert.match(result.err, /invalid orchestrator configuration/);
  });

  test('a bad incident id is refused before the service is started, for every incident command', async () => {
    for (const args of [
      ['show', 'inc-7'],
      ['report', 'INC-0'],
      ['note', '7', '--text', 'x'],
      ['confirm', 'INC-x', '--scope', 'x'],
      ['close', 'INC-', '--root-cause', 'x', '--lessons', 'y'],
      ['contain', 'INC-07', '--kill'],
      ['evidence', 'nope'],
      ['evidence-copy', 'nope', '--out', path.join(dir, 'new-bundle.tar')],
      ['notify', 'nope', '--channel', 'email'],
    ]) {
      const result = await fleet('incident', ...args);
      assert.equal(result.code, EXIT_CODES.invalid_input, `${args.join(' ')}: ${result.err}`);
      assert.match(result.err, /^fleet: an incident id looks like INC-7/, args.join(' '));
    }
  });

  test('the report is written whole, owner-only, with no temp file left beside it', async () => {
    const sub = await mkdtemp(path.join(dir, 'write-'));
    const out = path.join(sub, 'report.md');
    const body = `# report\n${'line\n'.repeat(10_000)}`;
    await writeNewFileAtomically(await checkedNewFile(out), body);
    assert.equal(await readFile(out, 'utf8'), body);
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(sub), ['report.md']);
  });

  test('a file that appeared after the check is a conflict: it is kept and no temp file is left', async () => {
    const sub = await mkdtemp(path.join(dir, 'race-'));
    const out = await checkedNewFile(path.join(sub, 'report.md'));
    await writeFile(out, 'written meanwhile');
    await assert.rejects(writeNewFileAtomically(out, 'the report'), (error: unknown) => isFleetError(error) && error.code === 'conflict' && /already exists/.test(error.message));
    assert.equal(await readFile(out, 'utf8'), 'written meanwhile');
    assert.deepEqual(await readdir(sub), ['report.md']);
  });
});

describe('incident report --include-incident-text', () => {
  test('without --client it is refused before the service is asked', async () => {
    const result = await fleet('incident', 'report', 'INC-7', '--include-incident-text');
    assert.equal(result.code, EXIT_CODES.invalid_input, result.err);
    assert.match(result.err, /^fleet: --include-incident-text applies to a client's report only/);
  });

  test("the API client asks for the incident-wide text only when told to", async () => {
    const bodies: unknown[] = [];
    const transport = { request: async (_method: string, _path: string, body: unknown) => (bodies.push(body), {}) } as unknown as OrchestratorClient;
    const api = new IncidentApiClient(transport, 'ops@agency');
    await api.report('INC-7', 'acme');
    await api.report('INC-7', 'acme', true);
    assert.deepEqual(bodies, [
      { actor: 'ops@agency', client: 'acme' },
      { actor: 'ops@agency', client: 'acme', includeIncidentText: true },
    ]);
  });
});
