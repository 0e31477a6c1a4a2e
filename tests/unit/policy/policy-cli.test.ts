import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FREE_TEXT_AUTO_SEND_RISK } from '@agent-fleet/kernel/client-config';
import { runPolicyCli } from '../../../agent-image/src/cli/policy-cli.ts';

let dir: string;
let configPath: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'policy-cli-'));
  configPath = path.join(dir, 'client.yaml');
  await writeFile(
    configPath,
    [
      'client: acme',
      'permissions: { mail.read: true, mail.send: true, mail.delete: true, calendar.write: true }',
      'onboarding: { startedAt: "2025-01-01T00:00:00Z" }',
      'knownContacts: [bob@partner.com]',
      'rateLimits: { perHour: 2, perDay: 10 }',
      'blockList: [rival.com]',
      // Free-text sends auto-send only for a type the client opted in, restating the risk.
      'autoReply:',
      '  freeTextAutoSend:',
      `    - { type: follow_up, acceptedRisk: ${JSON.stringify(FREE_TEXT_AUTO_SEND_RISK)}, acceptedBy: owner@acme.com, acceptedAt: "2025-01-02T00:00:00Z" }`,
    ].join('\n'),
  );
});
after(async () => rm(dir, { recursive: true, force: true }));

async function run(args: string[], input: string): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runPolicyCli(args, { stdin: Readable.from([input]), stdout, stderr });
  return { code, out, err };
}

const send = (to: unknown) => JSON.stringify({ kind: 'mail.send', to, subject: 's', body: 'b', emailType: 'follow_up' });
/** An invitation: outbound, counted against the limits, and allowed on its own (a send answers no message here, so is held). */
const invite = (to: string) => JSON.stringify({ kind: 'calendar.write', operation: 'create', title: 'Call', start: '2025-06-03T10:00:00Z', participants: [to] });

describe('policy eval CLI', () => {
  it('prints one decision per input line, denying malformed lines as unparseable', async () => {
    const input = [invite('bob@partner.com'), 'not json {', '', send('x@rival.com'), '[1]', send(42), send('bob@partner.com')].join('\n');
    const { code, out } = await run(['eval', '--config', configPath, '--now', '2025-06-02T10:00:00Z'], input);
    assert.equal(code, 0);
    const decisions = out.trim().split('\n').map((line) => JSON.parse(line) as { line: number; decision: string; reasons: string[] });
    assert.deepEqual(
      decisions.map(({ line, decision, reasons }) => [line, decision, reasons[0]]),
      [
        [1, 'allow', 'auto_send'],
        [2, 'deny', 'unparseable'],
        [4, 'needs_approval', 'blocked_recipient'],
        [5, 'deny', 'unparseable'],
        [6, 'deny', 'unparseable'],
        // Free text of an opted-in type, but a new message: the opt-in covers replies only.
        [7, 'needs_approval', 'free_text'],
      ],
    );
  });

  it('carries allowed sends forward so the rate limit applies within the stream, then pauses', async () => {
    const input = [invite('bob@partner.com'), invite('bob@partner.com'), invite('bob@partner.com'), invite('bob@partner.com')].join('\n');
    const { out } = await run(['eval', '--config', configPath, '--now', '2025-06-02T10:00:00Z'], input);
    const reasons = out.trim().split('\n').map((line) => (JSON.parse(line) as { reasons: string[] }).reasons[0]);
    assert.deepEqual(reasons, ['auto_send', 'auto_send', 'rate_limit_hour', 'paused']);
  });

  it('reads the state file: a killed agent denies everything', async () => {
    const statePath = path.join(dir, 'state.json');
    await writeFile(statePath, JSON.stringify({ killed: true }));
    const { out } = await run(['eval', '--config', configPath, '--state', statePath], JSON.stringify({ kind: 'mail.read' }));
    assert.deepEqual((JSON.parse(out) as { reasons: string[] }).reasons, ['killed']);
  });

  it('exits 2 with a clear message on a missing option, a bad config or a bad --now', async () => {
    const missing = await run(['eval'], '');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--config is required/);
    const badConfigPath = path.join(dir, 'bad.yaml');
    await writeFile(badConfigPath, 'client: acme\nrateLimits: { perHour: 500, perDay: 10 }\n');
    const badConfig = await run(['eval', '--config', badConfigPath], '');
    assert.equal(badConfig.code, 2);
    assert.match(badConfig.err, /rateLimits\.perHour/);
    const badNow = await run(['eval', '--config', configPath, '--now', 'yesterday'], '');
    assert.equal(badNow.code, 2);
    assert.match(badNow.err, /--now/);
    // A time without an offset would be read in the zone of the machine running the check.
    const zoneless = await run(['eval', '--config', configPath, '--now', '2025-06-02T10:00:00'], '');
    assert.equal(zoneless.code, 2);
    assert.match(zoneless.err, /--now must be an ISO 8601 date-time with an offset/);
    assert.equal((await run(['eval', '--config', configPath, '--now', '2025-06-02T12:00:00+02:00'], '')).code, 0);
  });

  it('runs as a script with stdin and stdout', async () => {
    const script = path.resolve(import.meta.dirname, '../../../agent-image/src/cli/policy-cli.ts');
    const output = await new Promise<string>((resolve, reject) => {
      const child = execFile(process.execPath, [script, 'eval', '--config', configPath, '--now', '2025-06-02T10:00:00Z'], (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
      child.stdin?.end(`${invite('bob@partner.com')}\n{"kind":"mail.delete","messageIds":"m1"}\n`);
    });
    assert.deepEqual(output.trim().split('\n').map((line) => (JSON.parse(line) as { decision: string }).decision), ['allow', 'needs_approval']);
  });
});
