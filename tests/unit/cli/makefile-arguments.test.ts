// The Makefile's ops targets used to put CLIENT and REASON inside single quotes in the recipe: a value with
// a quote broke out of them (`CLIENT="x'; touch …; '"` ran a command, REASON="it's broken" was a shell
// syntax error), make expanded `$` in them (REASON='refund $100' lost `$1`, a `$(shell …)` ran when make
// exported the value to the recipe's environment), and PURGE=0 purged. Here make runs each target's recipe
// with FLEET replaced by a script that prints its arguments, and with the prerequisites that install or
// start anything marked as done (-o): nothing is installed, built or started.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

const REPO = path.resolve(import.meta.dirname, '../../..');

describe('make targets pass the operator’s values to fleet byte for byte', () => {
  let dir: string;
  let fakeFleet: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-make-'));
    fakeFleet = path.join(dir, 'fleet-argv.mjs');
    await writeFile(fakeFleet, 'process.stdout.write(JSON.stringify(process.argv.slice(2)));\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  function make(...args: string[]): { status: number | null; argv: string[] | null; stderr: string } {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // A `make test` around this run must not hand its own variables down.
    for (const name of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'CLIENT', 'REASON', 'PURGE']) delete env[name];
    const result = spawnSync(
      'make',
      ['-s', '-o', 'node_modules/.package-lock.json', '-o', 'system', '-o', 'images', `FLEET=${process.execPath} ${fakeFleet}`, ...args],
      { cwd: REPO, env, encoding: 'utf8', timeout: 20_000 },
    );
    return { status: result.status, argv: result.stdout ? (JSON.parse(result.stdout) as string[]) : null, stderr: result.stderr };
  }

  test('a quote, $, backquote, ; or a line break in CLIENT or REASON reaches the CLI as typed, and runs nothing', () => {
    const marker = path.join(dir, 'pwned');
    const reason = `it's broken; costs $5 $$x \`touch ${marker}\` $(touch ${marker}) $(shell touch ${marker}) # 42 \\ , % "q"\nsecond line`;
    const killed = make('kill', 'CLIENT=acme', `REASON=${reason}`);
    assert.equal(killed.status, 0, killed.stderr);
    assert.deepEqual(killed.argv, ['kill', '--reason', reason, '--', 'acme']);

    const client = `x'; touch ${marker}; '`;
    for (const target of ['status', 'provision']) {
      const result = make(target, `CLIENT=${client}`);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(result.argv, [target, '--', client], target);
    }
    const listed = make('list', `CLIENT=$(shell touch ${marker})`, `REASON=$(shell touch ${marker})`);
    assert.deepEqual(listed.argv, ['list']);
    assert.equal(existsSync(marker), false, 'no value was run as a command');
  });

  test('a client id that looks like an option is passed as the argument, for the CLI to refuse by name', () => {
    assert.deepEqual(make('status', 'CLIENT=--help').argv, ['status', '--', '--help']);
    assert.deepEqual(make('kill', 'CLIENT=-x', 'REASON=--force').argv, ['kill', '--reason', '--force', '--', '-x']);
  });

  test('deprovision: PURGE=1 purges, any other value is refused before the CLI runs; REASON is passed on', () => {
    assert.deepEqual(make('deprovision', 'CLIENT=acme').argv, ['deprovision', '--', 'acme']);
    assert.deepEqual(make('deprovision', 'CLIENT=acme', 'PURGE=1', "REASON=client's contract ended").argv, [
      'deprovision',
      '--purge',
      '--reason',
      "client's contract ended",
      '--',
      'acme',
    ]);
    for (const purge of ['0', 'no', 'false', "1'; echo '"]) {
      const result = make('deprovision', 'CLIENT=acme', `PURGE=${purge}`);
      assert.equal(result.status, 2, purge);
      assert.equal(result.argv, null, `${purge}: the CLI did not run`);
      assert.match(result.stderr, /PURGE=1 deletes the data; any other value is refused/);
    }
  });

  test('a missing CLIENT or REASON is the usage message with exit 2, and the CLI does not run', () => {
    for (const args of [['status'], ['kill', 'CLIENT=acme'], ['kill', 'CLIENT=acme', 'REASON='], ['kill', 'REASON=why']]) {
      const result = make(...args);
      assert.equal(result.status, 2, args.join(' '));
      assert.equal(result.argv, null, args.join(' '));
      assert.match(result.stderr, /^usage: make (status|kill) CLIENT=<id>/, args.join(' '));
    }
  });
});
