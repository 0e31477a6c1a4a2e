// `policy eval` takes the facts about the message a send answers, as the agent's code establishes them, so
// a config can be checked for what it auto-sends; malformed facts are refused line by line, naming the field.
import assert from 'node:assert/strict';
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
  dir = await mkdtemp(path.join(tmpdir(), 'policy-cli-answering-'));
  configPath = path.join(dir, 'client.yaml');
  await writeFile(
    configPath,
    [
      'client: acme',
      'permissions: { mail.read: true, mail.send: true }',
      'onboarding: { startedAt: "2025-01-01T00:00:00Z" }',
      'knownContacts: [bob@partner.com]',
      'autoReply:',
      '  freeTextAutoSend:',
      `    - { type: follow_up, acceptedRisk: ${JSON.stringify(FREE_TEXT_AUTO_SEND_RISK)}, acceptedBy: owner@acme.com, acceptedAt: "2025-01-02T00:00:00Z" }`,
    ].join('\n'),
  );
});
after(async () => rm(dir, { recursive: true, force: true }));

type Line = { line: number; decision: string; reasons: string[]; details?: string[] };

async function evaluate(lines: unknown[]): Promise<Line[]> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const input = lines.map((line) => JSON.stringify(line)).join('\n');
  const code = await runPolicyCli(['eval', '--config', configPath, '--now', '2025-06-02T10:00:00Z'], { stdin: Readable.from([input]), stdout, stderr });
  assert.equal(code, 0);
  return out.trim().split('\n').map((line) => JSON.parse(line) as Line);
}

const reply = { kind: 'mail.send', to: ['bob@partner.com'], subject: 'Re: lunch', body: 'Thursday works.', emailType: 'follow_up', inReplyTo: 'm-1' };
const clean = { sender: 'bob@partner.com', senderAuthenticated: true };

describe('policy eval with the facts about the message answered', () => {
  it('shows a reply to an authenticated, clean message as auto_send, and the same reply without the facts held', async () => {
    const decisions = await evaluate([{ action: reply, answering: clean }, reply]);
    assert.deepEqual(decisions.map((d) => [d.decision, d.reasons[0]]), [['allow', 'auto_send'], ['needs_approval', 'free_text']]);
    assert.ok(decisions[1]?.reasons.includes('sender_unauthenticated'));
  });

  it('holds the reply for what the facts show: an unauthenticated sender, an injection signal, another recipient', async () => {
    const decisions = await evaluate([
      { action: reply, answering: { ...clean, senderAuthenticated: false } },
      { action: reply, answering: { ...clean, injectionSignals: ['recipient_change'] } },
      { action: reply, answering: { ...clean, sender: 'carol@partner.com' } },
    ]);
    assert.deepEqual(decisions.map((d) => d.reasons), [['sender_unauthenticated'], ['injection_signal'], ['recipient_not_sender']]);
  });

  it('counts auto-sent replies into their thread, as the agent does', async () => {
    const answering = { ...clean, thread: 't-1', receivedAt: '2025-06-02T09:59:00Z' };
    // The stream has one clock (--now): the next message of the thread arrives just after the first reply.
    const later = { ...answering, receivedAt: '2025-06-02T10:00:30Z' };
    const decisions = await evaluate([{ action: reply, answering }, { action: reply, answering: later }]);
    assert.deepEqual(decisions.map((d) => d.reasons), [['auto_send'], ['auto_reply_loop']]);
  });

  it('denies a line with malformed facts as unparseable, naming each field, and goes on with the next', async () => {
    const decisions = await evaluate([
      { action: reply, answering: { sender: 'not an address', senderAuthenticated: 'yes', injectionSignals: ['made_up'], extra: 1 } },
      { action: reply, answering: { ...clean, receivedAt: 'yesterday' } },
      { action: reply },
      { action: reply, answering: clean },
    ]);
    assert.deepEqual(decisions.map((d) => [d.decision, d.reasons[0]]).slice(0, 3), [['deny', 'unparseable'], ['deny', 'unparseable'], ['deny', 'unparseable']]);
    const first = decisions[0]?.details?.join('\n') ?? '';
    for (const field of ['answering.sender', 'answering.senderAuthenticated', 'answering.injectionSignals.0', 'answering']) assert.match(first, new RegExp(`^${field.replaceAll('.', '\\.')}: `, 'm'));
    assert.match(decisions[1]?.details?.join('\n') ?? '', /^answering\.receivedAt: /m);
    assert.match(decisions[2]?.details?.join('\n') ?? '', /^answering: /m);
    assert.deepEqual(decisions[3]?.reasons, ['auto_send']);
  });
});
