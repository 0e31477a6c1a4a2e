// Client config documents no one writes by hand, each once mishandled:
// - a 1 MiB run of stray brackets, anchors or bad escapes took up to a minute to refuse: the YAML library
//   records every problem as an Error with its stack and reads on, and the first problem was looked at only
//   after; a run of "]" or "---" lines was a million error tokens or 250 000 documents, all built first;
// - a list of working days or email types had no length bound, so a long list of bad items gave one problem
//   per item and overflowed the stack ("Maximum call stack size exceeded") instead of being refused;
// - an unknown key or a tag was quoted into the error as written: a line feed in it made a problem line of
//   its own, an escape sequence reached the terminal and the logs.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { Composer, LineCounter, Parser, type CST } from 'yaml';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { checkedTokens, parseClientConfigYaml, stopAtFirstProblem } from '@agent-fleet/kernel/client-config-yaml';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { readClientConfigFile } from '../../../orchestrator/src/cli/options.ts';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(isFleetError(error), String(error));
    assert.equal(error.code, 'invalid_input');
    return error.message;
  }
  assert.fail('the document was accepted');
}

/** The parser's tokens of `text`, then a failure should anything read past them. */
function* tokensThenFail(text: string, lines: LineCounter): Generator<CST.Token> {
  yield* new Parser(lines.addNewLine).parse(text);
  throw new Error('read past the first problem');
}

describe('a hostile YAML document is refused at its first problem', () => {
  test('the composer stops at the first of thousands of problems instead of recording each', () => {
    for (const [text, first] of [
      [`client: acme\nx: ${'[]'.repeat(2000)}\n`, /^Unexpected flow-seq-start at node end at line 2, column 6$/],
      [`client: acme\nx: ${'&a '.repeat(2000)}1\n`, /^A node can have at most one anchor at line 2, column 7$/],
      [`client: acme\nx: "${'\\q'.repeat(2000)}"\n`, /^Invalid escape sequence \\q at line 2, column 5$/],
    ] as const) {
      const lines = new LineCounter();
      let problems = 0;
      const composer = stopAtFirstProblem(new Composer({ uniqueKeys: false, logLevel: 'silent' }), lines, () => (problems += 1));
      assert.throws(() => Array.from(composer.compose(new Parser(lines.addNewLine).parse(text))), { message: first });
      assert.equal(problems, 1, text.slice(0, 30));
      assert.match(refusal(() => parseClientConfigYaml(text, 'config.yaml')), new RegExp(`^config\\.yaml: not valid YAML: ${first.source.slice(1)}`));
    }
  });

  test('a syntax error between documents ends the read there, not after the rest of the stream', () => {
    const lines = new LineCounter();
    assert.throws(
      () => Array.from(checkedTokens(tokensThenFail('client: acme\n]]]\n', lines), lines)),
      { message: /^Unexpected flow-seq-end token in YAML stream: "\]" at line 2, column 1$/ },
    );
    assert.match(refusal(() => parseClientConfigYaml(`client: acme\n${'}'.repeat(5000)}\n`, 'config.yaml')), /not valid YAML: Unexpected flow-map-end token in YAML stream: "\}" at line 2, column 1$/);
  });

  test('a second document ends the read there, before any further document is built', () => {
    const lines = new LineCounter();
    assert.throws(() => Array.from(checkedTokens(tokensThenFail('client: acme\n---\nclient: acme\n---\n', lines), lines)), { message: /2 YAML documents or more/ });
    assert.match(refusal(() => parseClientConfigYaml('---\n'.repeat(5000), 'config.yaml')), /not valid YAML: it holds 2 YAML documents or more \(separated by "---"\); a config is one document$/);
  });
});

describe('every list of a client config is bounded', () => {
  test('thousands of working days are refused as too many, naming the bound, not with a problem per day', () => {
    const result = parseClientConfig({ client: 'acme', workingHours: { days: Array.from({ length: 20_000 }, (_, index) => index + 8) } });
    assert.deepEqual(result.ok ? [] : result.issues, ['workingHours.days: Too big: expected array to have <=7 items']);
  });

  test('thousands of email types are refused as too many, naming the bound, in every list of types', () => {
    const bad = Array.from({ length: 20_000 }, (_, index) => `type${index}`);
    const result = parseClientConfig({ client: 'acme', autoSendTypes: bad, triage: { archiveTypes: bad } });
    assert.deepEqual(result.ok ? [] : result.issues, [
      'autoSendTypes: Too big: expected array to have <=17 items',
      'triage.archiveTypes: Too big: expected array to have <=17 items',
    ]);
  });

  test('seven distinct days and every email type once are still fine', () => {
    const result = parseClientConfig({
      client: 'acme',
      workingHours: { days: [7, 6, 5, 4, 3, 2, 1] },
      autoSendTypes: [],
      triage: { markReadTypes: ['acknowledgement', 'scheduling_confirmation', 'follow_up', 'scheduling', 'question', 'routine', 'offer', 'negotiation', 'client_facing', 'sensitive', 'new_contact', 'complaint', 'legal', 'financial', 'spam', 'newsletter', 'other'] },
    });
    assert.ok(result.ok, result.ok ? '' : result.issues.join('; '));
  });
});

describe('what a document holds is quoted inert in its refusal', () => {
  test('an unknown key with a line feed or an escape sequence stays on its problem line, escaped', () => {
    const result = parseClientConfig({ client: 'acme', 'dryRun\n  rateLimits: fine\u001b[2J\u202e': true });
    assert.deepEqual(result.ok ? [] : result.issues, ['(root): Unrecognized key: "dryRun\\u{a}  rateLimits: fine\\u{1b}[2J\\u{202e}"']);
  });

  test('a tag the YAML library quotes is escaped the same way', () => {
    const message = refusal(() => parseClientConfigYaml('client: !<\u001b[31m\u0085> acme\n', 'config.yaml'));
    assert.match(message, /Unresolved tag: \\u\{1b\}\[31m\\u\{85\}/);
    assert.doesNotMatch(message, /[\u001b\u0085]/);
  });

  test('the CLI refuses a bad file naming it and the field, without echoing the values it holds', async () => {
    const secret = ['sk', 'ant', 'api03', 'x'.repeat(32)].join('-');
    const document = `client: acme\nanthropicApiKey: ${secret}\nmodel: { key: ${secret} }\nmailbox: ${secret}\n`;
    await assert.rejects(readClientConfigFile('-', Readable.from([Buffer.from(document)])), (error: unknown) => {
      assert.ok(isFleetError(error) && error.code === 'invalid_input', String(error));
      assert.match(error.message, /^the config on standard input is invalid:\n {2}mailbox: must be an email address\n {2}model: Invalid input: expected string, received object\n {2}\(root\): Unrecognized key: "anthropicApiKey"$/);
      assert.ok(!error.message.includes(secret));
      return true;
    });
  });
});
