// What `fleet` prints comes in part from the service and from client data (names, subjects, reasons, error
// messages, the entry names of an archive being verified). It used to reach the operator's terminal as it
// was: an ESC, a C1 CSI (U+009B) or OSC, a carriage return or a bidirectional override in it drove the
// terminal (cleared the screen, set the title, hid or reordered text), and --json passed C1 controls and
// bidi characters unescaped. Commander's usage errors went to the process's own stderr, not the CLI's.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { CliContext, type CliIo } from '../../../orchestrator/src/cli/cli-context.ts';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { runCli } from '../../../orchestrator/src/cli/program.ts';
import { terminalSink } from '../../../orchestrator/src/cli/terminal-sink.ts';
import { terminalSafe, terminalSafeJson } from '../../../orchestrator/src/cli/terminal-text.ts';

/** Every character a terminal acts on, found in printed text (tab and line feed are text). */
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = 'Re: invoice\u001b]0;owned\u0007\u001b[2J\u009b31m\u009d8;;https://evil.example\u009c\rOK \u202egnp.exe\u2066x\u2069\u0000\u007f';

function capture(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  // An invalid setting: a command that got past its own checks fails on the config, never reaching a service.
  return { env: { AGENT_FLEET_HOME: os.tmpdir(), ORCHESTRATOR_PORT: 'not-a-port' }, stdout, stderr, out: () => out, err: () => err };
}

describe('fleet output cannot drive the operator’s terminal', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-terminal-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('terminalSafe shows each active character as an escape and keeps text, tabs and line breaks', () => {
    assert.equal(terminalSafe('a\u001b[2Jb\u009bc\rd\u202ee\u2067f'), 'a\\x1b[2Jb\\x9bc\\x0dd\\u202ee\\u2067f');
    assert.equal(terminalSafe('line one\n\tcafé — naïve ✔ 日本'), 'line one\n\tcafé — naïve ✔ 日本');
    assert.doesNotMatch(terminalSafe(HOSTILE), ACTIVE);
  });

  test('terminalSafeJson escapes C1 and bidi characters and keeps the same JSON value', () => {
    const value = { subject: HOSTILE, nested: [{ name: 'x\u009by' }] };
    const json = terminalSafeJson(JSON.stringify(value, null, 2));
    assert.doesNotMatch(json, ACTIVE);
    assert.deepEqual(JSON.parse(json), value);
  });

  test('print, printAs(json), warn and printText are inert whatever the data holds', () => {
    const io = capture();
    const context = new CliContext(io, 'ops@test');
    context.print({ subject: HOSTILE }, () => `subject: ${HOSTILE}`);
    context.printAs(true, { subject: HOSTILE }, () => '');
    context.printText(`# report\n${HOSTILE}\n`);
    context.warn(HOSTILE);
    assert.doesNotMatch(io.out(), ACTIVE);
    assert.doesNotMatch(io.err(), ACTIVE);
    assert.match(io.out(), /^subject: Re: invoice\\x1b\]0;owned\\x07/);
    const json = io.out().split('\n').slice(1, 4).join('\n');
    assert.deepEqual(JSON.parse(json), { subject: HOSTILE });
  });

  test('an error message quoting the input is printed inert, with the usage status', async () => {
    const io = capture();
    const status = await runCli(['node', 'fleet', 'kill', `acme${HOSTILE}`, '--reason', 'test'], io);
    assert.equal(status, EXIT_CODES.invalid_input);
    assert.match(io.err(), /^fleet: invalid client id/);
    assert.doesNotMatch(io.err(), ACTIVE);
  });

  test('commander’s usage errors go to the CLI’s stderr, inert, with the usage status 2', async () => {
    for (const args of [['kill', 'acme', '--reason', 'x', `--bogus${HOSTILE}`], ['kill', 'acme'], ['kill', '--reason', 'x', 'acme', 'extra'], [`nosuch${HOSTILE}`], []]) {
      const io = capture();
      const status = await runCli(['node', 'fleet', ...args], io);
      assert.equal(status, EXIT_CODES.invalid_input, JSON.stringify(args));
      assert.match(io.err(), /^error: |Usage: fleet/, JSON.stringify(args));
      assert.doesNotMatch(io.err(), ACTIVE, JSON.stringify(args));
    }
    const help = capture();
    assert.equal(await runCli(['node', 'fleet', 'kill', '--help'], help), 0);
    assert.match(help.out(), /^Usage: fleet kill \[options\] <client>/);
  });

  test('audit export: raw bytes to a file or pipe, inert text on a terminal (CRLF and UTF-8 split across chunks kept whole)', async () => {
    const csv = Buffer.from(`seq,target\r\n1,"${HOSTILE} café"\r\n`);
    const cut = [csv.subarray(0, 13), csv.subarray(13, csv.indexOf('é') + 1), csv.subarray(csv.indexOf('é') + 1, csv.length - 1), csv.subarray(csv.length - 1)];
    const written = async (isTTY: boolean): Promise<string> => {
      const target = Object.assign(new PassThrough(), { isTTY });
      const chunks: Buffer[] = [];
      target.on('data', (chunk: Buffer) => chunks.push(chunk));
      const sink = terminalSink(target);
      for (const part of cut) sink.write(part);
      if (sink !== target) sink.end();
      await new Promise((resolve) => setImmediate(resolve));
      return Buffer.concat(chunks).toString();
    };
    assert.equal(await written(false), csv.toString(), 'a file or pipe gets the bytes as they are');
    const shown = await written(true);
    assert.doesNotMatch(shown, ACTIVE);
    assert.equal(shown, `seq,target\n1,"${terminalSafe(HOSTILE)} café"\n`);
  });

  test('export verify of a hostile archive: entry names are printed inert, and the result is exit 7', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const keyFile = path.join(dir, 'export-key.pem');
    await writeFile(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const pack = tar.pack();
    pack.entry({ name: `notes${HOSTILE}.txt` }, 'hello');
    pack.entry({ name: `link${HOSTILE}`, type: 'symlink', linkname: '/etc/passwd' });
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
    const archive = path.join(dir, 'hostile.tar');
    await writeFile(archive, Buffer.concat(chunks));

    const human = capture();
    assert.equal(await runCli(['node', 'fleet', 'export', 'verify', archive, '--public-key', keyFile], human), EXIT_CODES.integrity);
    assert.match(human.out(), /NOT VALID/);
    assert.match(human.out(), /link.*\\x1b\]0;owned\\x07/);
    assert.doesNotMatch(human.out(), ACTIVE);

    const json = capture();
    assert.equal(await runCli(['node', 'fleet', '--json', 'export', 'verify', archive, '--public-key', keyFile], json), EXIT_CODES.integrity);
    assert.doesNotMatch(json.out(), ACTIVE);
    const parsed = JSON.parse(json.out()) as { problems: { message: string }[] };
    assert.ok(parsed.problems.some((problem) => problem.message.includes(HOSTILE)), 'the JSON value itself is unchanged');
  });
});
