import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAgentConfigDocument } from '@agent-fleet/kernel/client-config-document';
import { agentConfigDocument, parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';

const OPS_YAML = `# acme: reviewed by ops on 2026-12-01
client: acme
provider: outlook
admins:
  - Boss@Acme.example   # the owner
  - it@acme.example
rateLimits: { perHour: 5, perDay: 40 }
workingHours:
  start: "08:30"
  end: "17:00"
blockList: [rival.example]
`;

async function rejection(text: string): Promise<FleetError> {
  const error = await parseAgentConfigDocument(text, 'config.yaml').then(
    () => assert.fail('the document was accepted'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof FleetError, String(error));
  assert.equal(error.code, 'invalid_input');
  return error;
}

void describe('the config document placed for the agent', () => {
  test('is the ops YAML as JSON, and the agent reads from it exactly the config the YAML gives', async () => {
    const document = agentConfigDocument(OPS_YAML);
    assert.ok(document.startsWith('{\n'), document);
    assert.doesNotMatch(document, /reviewed by ops/, 'comments are not data');
    assert.deepEqual(JSON.parse(document), { client: 'acme', provider: 'outlook', admins: ['Boss@Acme.example', 'it@acme.example'], rateLimits: { perHour: 5, perDay: 40 }, workingHours: { start: '08:30', end: '17:00' }, blockList: ['rival.example'] });
    assert.deepEqual(await parseAgentConfigDocument(document, 'config.yaml'), parseClientConfigYaml(OPS_YAML));
  });

  test('a hand-written YAML document (a Kubernetes ConfigMap, an older volume) is still read as YAML', async () => {
    assert.deepEqual(await parseAgentConfigDocument(OPS_YAML, 'config.yaml'), parseClientConfigYaml(OPS_YAML));
    assert.deepEqual(await parseAgentConfigDocument('{client: acme}', 'config.yaml'), parseClientConfigYaml('client: acme\n'));
  });

  test('JSON with a repeated key is not read as JSON (which would keep the last one) but refused as YAML', async () => {
    const error = await rejection('{\n  "client": "acme",\n  "client": "other"\n}\n');
    assert.match(error.message, /config\.yaml: not valid YAML: .*unique/i);
  });

  test('data JSON cannot carry unchanged is placed as the YAML it came as', () => {
    const yaml = 'client: acme\nrateLimits:\n  perHour: .inf\n';
    assert.equal(agentConfigDocument(yaml), yaml);
  });

  test('text that is not YAML is placed as it is, and the agent refuses it as before', async () => {
    const broken = 'client: [acme\n';
    assert.equal(agentConfigDocument(broken), broken);
    const error = await rejection(broken);
    assert.match(error.message, /config\.yaml: not valid YAML/);
  });

  test('what YAML would only warn about is refused with the reason: an unknown tag, an unsupported version, a list as a key', async () => {
    const cases: Array<[string, RegExp]> = [
      ['client: acme\nadmins: !!js/function "f"\n', /not valid YAML: .*tag/i],
      ['%YAML 9.9\n---\nclient: acme\n', /not valid YAML: .*version/i],
      ['client: acme\n? [a, b]\n: c\n', /not valid YAML: a key is a list or a map/],
      ['client: acme\nrateLimits: { ? { a: 1 } : 2 }\n', /not valid YAML: a key is a list or a map/],
    ];
    for (const [yaml, reason] of cases) {
      assert.throws(() => parseClientConfigYaml(yaml, 'config.yaml'), (error: unknown) => isFleetError(error) && error.code === 'invalid_input' && reason.test(error.message), yaml);
      assert.match((await rejection(yaml)).message, reason, 'the agent refuses it the same way');
    }
  });

  test('an invalid config in JSON names every bad field, as the YAML path does', async () => {
    const document = agentConfigDocument('client: acme\nrateLimits: { perHour: 50, perDay: 10 }\nworkingHours: { start: "18:00", end: "09:00" }\n');
    assert.ok(document.startsWith('{'));
    const error = await rejection(document);
    assert.match(error.message, /config\.yaml is invalid:/);
    assert.match(error.message, /rateLimits\.perHour: cannot exceed rateLimits\.perDay/);
    assert.match(error.message, /workingHours\.end: must be after workingHours\.start/);
  });

  test('a document over 1 MiB is refused before it is parsed', async () => {
    const error = await rejection(`{"client": "acme", "pad": "${'x'.repeat(1024 * 1024)}"}`);
    assert.match(error.message, /larger than 1048576 bytes/);
  });
});
