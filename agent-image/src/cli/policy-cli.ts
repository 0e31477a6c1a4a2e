/**
 * `policy eval --config client.yaml [--state state.json] [--now ISO]`: reads proposed actions as JSON
 * lines on stdin and prints one decision per line on stdout, so ops can check a config before deploying
 * it. A send that answers a message is given with the facts about that message, as the agent's code
 * would establish them (`{"action": {…}, "answering": {…}}`, answered-message-input.ts): only such a send
 * may auto-send. A line that is not JSON, not a valid action, or with malformed facts, yields a `deny` with
 * reason `unparseable` naming what is wrong: the command never crashes on input. Allowed outbound actions are recorded into the (in-memory) state as if
 * they had executed, so later lines see the rate windows fill up and newly known contacts; a rate-limit
 * hit pauses sending for the rest of the stream, as in the agent.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { readAnsweringLine } from '../domain/policy/answered-message-input.ts';
import { compilePolicy } from '../domain/policy/evaluate-policy.ts';
import type { PolicyDecision } from '../domain/policy/decision.ts';
import { emptyPolicyState, parsePolicyState, recordSend, setPaused, type PolicyState } from '../domain/policy/policy-state.ts';
import { outboundRecipients, parseProposedAction } from '../domain/policy/proposed-action.ts';

const MAX_LINE_CHARS = 16 * 1024 * 1024;
const EXIT_USAGE = 2;

type EvalOptions = { config: string; state?: string; now?: string };

async function loadState(path: string | undefined): Promise<PolicyState> {
  if (path === undefined) return emptyPolicyState();
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new FleetError('invalid_input', `state file ${path}: cannot read it as JSON: ${(error as Error).message}`, { cause: error });
  }
  const result = parsePolicyState(data);
  if (!result.ok) throw new FleetError('invalid_input', `state file ${path} is invalid:\n  ${result.issues.join('\n  ')}`);
  return result.state;
}

function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const now = new Date(value);
  // With an offset: one written without would be read in the zone of whatever machine runs the check.
  if (!/^\d{4}-\d{2}-\d{2}T[^]*(?:Z|[+-]\d{2}:\d{2})$/i.test(value) || Number.isNaN(now.getTime())) {
    throw new FleetError('invalid_input', `--now must be an ISO 8601 date-time with an offset such as 2025-06-02T10:00:00Z, got "${value}"`);
  }
  return now;
}

async function evaluateStream(options: EvalOptions, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<void> {
  let configText: string;
  try {
    configText = await readFile(options.config, 'utf8');
  } catch (error) {
    throw new FleetError('invalid_input', `config file ${options.config}: ${(error as Error).message}`, { cause: error });
  }
  const config = parseClientConfigYaml(configText, options.config);
  let state = await loadState(options.state);
  const now = parseNow(options.now);
  const gate = compilePolicy(config);

  let lineNumber = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNumber++;
    if (line.trim().length === 0) continue;
    let decision: PolicyDecision;
    const parsedJson = line.length > MAX_LINE_CHARS ? undefined : safeJson(line);
    if (parsedJson === undefined) {
      decision = { decision: 'deny', reasons: ['unparseable'], details: ['not a JSON value'] };
    } else {
      const given = readAnsweringLine(parsedJson.value);
      const parsed = 'issues' in given ? { ok: false as const, issues: given.issues } : parseProposedAction(given.action);
      const autoSend = 'issues' in given ? undefined : given.autoSend;
      decision = parsed.ok ? gate.evaluateParsed(parsed.action, state, now, autoSend === undefined ? {} : { autoSend }) : { decision: 'deny', reasons: ['unparseable'], details: parsed.issues };
      if (parsed.ok && decision.decision === 'allow' && decision.facts !== undefined && (decision.facts.recipients > 0 || parsed.action.kind === 'mail.send' || parsed.action.kind === 'files.share')) {
        const automatic = parsed.action.kind === 'mail.send' && decision.reasons.includes('auto_send');
        state = recordSend(state, now, outboundRecipients(parsed.action), { automatic, thread: autoSend?.inbound.thread, answeredAt: autoSend?.inbound.receivedAt });
      }
      if (decision.pauseSending === true) state = setPaused(state, true);
    }
    output.write(`${JSON.stringify({ line: lineNumber, ...decision })}\n`);
  }
}

function safeJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

const USAGE = `usage: policy eval --config <client.yaml> [--state <state.json>] [--now <ISO 8601>]
  reads JSON lines of proposed actions on stdin, prints one decision per line on stdout
  a send answering a message (its facts count only for an action whose "inReplyTo" is set):
               { "action": { "kind": "mail.send", "inReplyTo": id, ... }, "answering": { "sender": address,
               "senderAuthenticated": bool, "injectionSignals"?: [...], "thread"?: id, "receivedAt"?: ISO,
               "templateReply"?: { "choice": {...}, "originalSubject": text, "nameSources"?: [...], "freeSlots"?: [{ "start": ISO, "end": ISO }] } } }
  state.json: { "killed": false, "paused": false, "knownContacts": [...], "sendHistory": [{ "at": ISO, "recipients": n }],
               "autoSendHistory": [{ "at": epoch ms, "recipients": [...], "thread": id }] }
`;

export type PolicyCliIo = { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };

/** Runs the CLI; resolves to the exit code (0 ok, 2 usage or invalid config/state, 1 unexpected). */
export async function runPolicyCli(argv: readonly string[], io: PolicyCliIo = process): Promise<number> {
  let options: EvalOptions;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { config: { type: 'string' }, state: { type: 'string' }, now: { type: 'string' }, help: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help === true) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length !== 1 || positionals[0] !== 'eval') throw new Error('expected the command "eval"');
    if (values.config === undefined) throw new Error('--config is required');
    options = { config: values.config };
    if (values.state !== undefined) options.state = values.state;
    if (values.now !== undefined) options.now = values.now;
  } catch (error) {
    io.stderr.write(`policy: ${(error as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    await evaluateStream(options, io.stdin, io.stdout);
    return 0;
  } catch (error) {
    io.stderr.write(`policy: ${isFleetError(error) ? error.message : `unexpected error: ${(error as Error).message}`}\n`);
    return isFleetError(error) && error.code === 'invalid_input' ? EXIT_USAGE : 1;
  }
}

if (import.meta.main) {
  process.exitCode = await runPolicyCli(process.argv.slice(2));
}
