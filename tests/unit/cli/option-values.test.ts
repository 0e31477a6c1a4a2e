// Option values `fleet` used to take as something else, or check only after the service was reached:
// `--received 2026-02-30` became 2 March (the 30-day erasure deadline counted from a day nobody named),
// `--hours 0x10` became 16, a repeated `--reason` kept the last one silently, `--since ""` exported the
// whole audit log, `ops-log show --client ""` showed every client, a bad client id for backup/restore
// started the service first, `export verify` of a missing file ended the process with a stack trace, and
// `secrets set` read standard input without bound and stored non-UTF-8 bytes as U+FFFD.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { isoTimeOption, wholeHoursOption } from '../../../orchestrator/src/cli/options.ts';
import { MAX_STANDARD_INPUT_BYTES, readStandardInput } from '../../../orchestrator/src/cli/secret-input.ts';
import { runFleetCliBeforeService as fleet } from '../../helpers/fleet-cli.ts';
import { invalidInputMessage as refusal, invalidInputMessageOf as asyncRefusal } from '../../helpers/refused.ts';

describe('fleet option values', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-options-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a time is an ISO 8601 date-time with its zone, or a date; a day the month lacks is refused, not rolled over', () => {
    assert.equal(isoTimeOption('--received', '2026-12-01T10:00:00+01:00'), '2026-12-01T09:00:00.000Z');
    assert.equal(isoTimeOption('--received', '2026-12-01T09:00Z'), '2026-12-01T09:00:00.000Z');
    assert.equal(isoTimeOption('--received', '2024-02-29'), '2024-02-29T00:00:00.000Z');
    for (const value of ['2026-02-30', '2025-02-29', '2026-04-31T00:00:00Z', '2026-12-01T24:00:00Z', '2026-12-01T09:60:00Z', '2026-12-01T09:00:00+24:00', '2026-12-01T09:00:00', '2026-13-01', '1', 'Dec 1', '', ' 2026-12-01', '2026-12-01 09:00Z']) {
      assert.match(refusal(() => isoTimeOption('--received', value)), /--received must be an ISO 8601 time with its zone/, value);
    }
  });

  test('erase --received, erase request --received, incident notify --at and audit export --since/--until are checked before the service', async () => {
    for (const [args, name] of [
      [['erase', 'acme', '--request-id', 'DSR-1', '--received', '2026-02-30'], '--received'],
      [['erase', 'request', 'acme', '--request-id', 'DSR-1', '--received', '2026-02-31T09:00:00Z'], '--received'],
      [['incident', 'notify', 'INC-1', '--channel', 'email', '--at', '2026-12-01T09:00:00'], '--at'],
      [['audit', 'export', 'acme', '--since', ''], '--since'],
      [['audit', 'export', 'acme', '--until', 'yesterday'], '--until'],
    ] as const) {
      const { code, err } = await fleet(...args);
      assert.equal(code, EXIT_CODES.invalid_input, args.join(' '));
      assert.match(err, new RegExp(`^fleet: ${name} must be an ISO 8601 time`), args.join(' '));
    }
  });

  test('--hours is decimal digits from 1 to 24', async () => {
    assert.equal(wholeHoursOption('24'), 24);
    for (const value of ['0x10', '1e1', '', ' 4', '0', '25', '-1', '4.0', 'Infinity']) {
      assert.match(refusal(() => wholeHoursOption(value)), /--hours must be a whole number from 1 to 24/, value);
    }
    const { code, err } = await fleet('support', 'request', 'acme', '--incident', 'INC-1', '--reason', 'x', '--hours', '0x10');
    assert.equal(code, EXIT_CODES.invalid_input);
    assert.match(err, /--hours must be a whole number from 1 to 24 \(got "0x10"\)/);
  });

  test('an option that takes one value, given twice, is refused; repeatable options still collect', async () => {
    for (const args of [
      ['kill', 'acme', '--reason', 'first', '--reason', 'second'],
      ['config', 'rollback', 'acme', '--to', '3', '--to', '4', '--reason', 'undo'],
      ['--code', '123456', '--code', '654321', 'list'],
      ['export', 'public-key', '--out', 'a.pem', '--out', 'b.pem'],
    ]) {
      const { code, err } = await fleet(...args);
      assert.equal(code, EXIT_CODES.invalid_input, args.join(' '));
      assert.match(err, /^fleet: --(reason|to|code|out) is given more than once: give it once/, args.join(' '));
    }
    // Past the option checks: these reach the (invalid) configuration.
    for (const args of [
      ['incident', 'open', '--severity', 'high', '--summary', 'x', '--client', 'acme', '--client', 'beta'],
      ['doctor', 'acme', '--marker', 'a', '--marker', 'b'],
      ['deprovision', 'acme', '--purge', '--purge'],
    ]) {
      const { code, err } = await fleet(...args);
      assert.equal(code, EXIT_CODES.invalid_input, args.join(' '));
      assert.match(err, /invalid orchestrator configuration/, args.join(' '));
    }
  });

  test('a bad client id for backup, backup list, restore or ops-log show is refused before the service is reached', async () => {
    for (const args of [['backup', 'Bad_Id'], ['backup', 'list', 'Bad_Id'], ['restore', 'Bad_Id', '--from', 'b-1'], ['ops-log', 'show', '--client', ''], ['ops-log', 'show', '--client', 'Bad_Id']]) {
      const { code, err } = await fleet(...args);
      assert.equal(code, EXIT_CODES.invalid_input, args.join(' '));
      assert.match(err, /^fleet: (invalid|missing) client id/, args.join(' '));
    }
  });

  test('ops-log show: a --since or --until that is not an ISO time with its zone is refused before the service is reached', async () => {
    for (const [option, value] of [['--since', ''], ['--since', 'yesterday'], ['--until', '2026-12-01T10:00:00']]) {
      const { code, err } = await fleet('ops-log', 'show', option ?? '', value ?? '');
      assert.equal(code, EXIT_CODES.invalid_input, `${option} ${value}`);
      assert.match(err, new RegExp(`^fleet: ${option} must be an ISO 8601 time`), `${option} ${value}`);
    }
  });

  test('export verify: a missing file, a directory, an empty path or an endless key file is a usage error naming it', async () => {
    const key = path.join(dir, 'key.pem');
    await writeFile(key, 'not a key\n');
    const cases: [string[], RegExp][] = [
      [['export', 'verify', path.join(dir, 'missing.tar'), '--public-key', key], /cannot read the archive .*missing\.tar: ENOENT/],
      [['export', 'verify', dir, '--public-key', key], /cannot read the archive .*: it is a directory/],
      [['export', 'verify', '', '--public-key', key], /the archive path is empty/],
      [['export', 'verify', '/dev/null', '--public-key', '/dev/zero'], /the public key \/dev\/zero is larger than 65536 bytes/],
      [['export', 'verify', '/dev/null', '--public-key', ''], /--public-key names no file/],
    ];
    for (const [args, message] of cases) {
      const { code, err } = await fleet(...args);
      assert.equal(code, EXIT_CODES.invalid_input, args.join(' '));
      assert.match(err, message, args.join(' '));
    }
  });

  test('standard input for a secret is bounded and must be UTF-8; one trailing newline is dropped', async () => {
    assert.equal(await readStandardInput('the secret', Readable.from([Buffer.from('s3cret\n')])), 's3cret');
    assert.equal(await readStandardInput('the secret', Readable.from([Buffer.from('a\r\n\n')])), 'a\r\n');
    const latin1 = Readable.from([Buffer.from([0x63, 0x61, 0x66, 0xe9])]);
    assert.match(await asyncRefusal(readStandardInput('the secret', latin1)), /^the secret is not UTF-8 text/);
    let chunksRead = 0;
    const endless = Readable.from(
      (function* () {
        for (let i = 0; i < 1000; i += 1) {
          chunksRead += 1;
          yield Buffer.alloc(64 * 1024);
        }
      })(),
    );
    assert.match(await asyncRefusal(readStandardInput('the secret', endless)), new RegExp(`^the secret is larger than ${MAX_STANDARD_INPUT_BYTES} bytes`));
    assert.ok(chunksRead < 10, `read no further than the bound (${chunksRead} chunks)`);
  });
});
