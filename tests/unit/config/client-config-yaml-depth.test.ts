// A client config nested thousands deep was refused only when the YAML library ran out of stack ("Maximum
// call stack size exceeded at line…", at a depth that depends on the caller's stack), and an empty document
// was refused for its missing `client` field. Deep nesting is now bounded before the document is built,
// and an empty document is called empty.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAgentConfigDocument } from '@agent-fleet/kernel/client-config-document';
import { MAX_CONFIG_NESTING, parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';

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

const flowNested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

describe('client config nesting', () => {
  test('lists and maps nested thousands deep are refused as nested too deeply, never as a stack overflow', () => {
    const documents = [
      flowNested(5000),
      `client: acme\nadmins: ${flowNested(5000)}\n`,
      `${'- '.repeat(20_000)}x\n`,
      `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
      `${'? '.repeat(20_000)}x\n`,
    ];
    for (const text of documents) {
      const message = refusal(() => parseClientConfigYaml(text, 'config.yaml'));
      assert.match(message, /^config\.yaml: not valid YAML: it is nested too deeply: more than 64 levels of lists and maps \(at line \d+, column \d+\)$/);
      assert.doesNotMatch(message, /call stack/);
    }
  });

  test("the agent's reading of its placed document refuses deep JSON the same way", async () => {
    await assert.rejects(parseAgentConfigDocument(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`, 'config.json'), /config\.json: not valid YAML: it is nested too deeply/);
  });

  test('the bound is exact: 64 levels reach the settings check, 65 do not', () => {
    assert.equal(MAX_CONFIG_NESTING, 64);
    assert.match(refusal(() => parseClientConfigYaml(`client: acme\nadmins: ${flowNested(63)}\n`)), /is invalid:\n {2}admins/);
    assert.match(refusal(() => parseClientConfigYaml(`client: acme\nadmins: ${flowNested(64)}\n`)), /nested too deeply/);
  });

  test('a real config, with its nested settings, still parses', () => {
    const config = parseClientConfigYaml('client: acme\ntimezone: Europe/London\nrateLimits:\n  perHour: 10\n  perDay: 100\n');
    assert.equal(config.client, 'acme');
  });
});

describe('an empty client config', () => {
  test('is refused as empty, not for a missing field', () => {
    for (const text of ['', '   \n\n', '# only a comment\n', '---\n', 'null\n', '~\n']) {
      const message = refusal(() => parseClientConfigYaml(text, 'config.yaml'));
      assert.match(message, /^config\.yaml is empty: a client config is a YAML map of settings, starting with client: <id>$/, JSON.stringify(text));
    }
  });

  test('the agent reading an empty placed document says the same', async () => {
    await assert.rejects(parseAgentConfigDocument('', 'config.json'), /^FleetError: config\.json is empty/);
  });
});
