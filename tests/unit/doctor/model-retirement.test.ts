// A client pinning a retired model is found before the API refuses it (404, the agent pauses): by
// `fleet doctor`, and as a guard rail when the model is chosen. Unknown (newer) models stay allowed.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { knownModelRetirements, modelRetirement, parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { crossedGuardRails } from '@agent-fleet/kernel/settings-guard-rails';
import { checkPinnedModel } from '../../../orchestrator/src/services/doctor/model-retirement-check.ts';
import { guardRailTitle } from '../../../orchestrator/src/portal/settings/labels.ts';

const NOW = new Date('2026-12-07T12:00:00.000Z');

function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

/** "November 30th, 2026" → "2026-11-30". */
function isoDay(text: string): string {
  const date = new Date(`${text.replace(/(\d+)(st|nd|rd|th)/, '$1')} 00:00:00 UTC`);
  assert.ok(!Number.isNaN(date.getTime()), text);
  return date.toISOString().slice(0, 10);
}

describe('retired models', () => {
  test('the kernel table knows every retirement the installed SDK knows, on the same day', () => {
    const require = createRequire(import.meta.url);
    const sdk = require(join(process.cwd(), 'node_modules/@anthropic-ai/sdk/internal/data/deprecated-models.js')) as { DEPRECATED_MODELS: Record<string, string> };
    const known = knownModelRetirements();
    for (const [model, day] of Object.entries(sdk.DEPRECATED_MODELS)) assert.equal(known.get(model), isoDay(day), model);
  });

  test('an unknown model, and inherited object keys, have no retirement', () => {
    for (const model of ['claude-opus-6', 'constructor', '__proto__', 'toString']) assert.equal(modelRetirement(model), null, model);
    assert.equal(modelRetirement('claude-sonnet-4-5')?.toISOString(), '2026-11-30T00:00:00.000Z');
  });

  test('the doctor fails a retired or soon-retired pinned model, warns ahead, and passes an unknown one', () => {
    const retired = checkPinnedModel({ model: 'claude-sonnet-4-5' }, NOW);
    assert.equal(retired.status, 'fail');
    assert.match(retired.evidence[0] ?? '', /was retired on 2026-11-30/);
    const soon = checkPinnedModel({ model: 'claude-sonnet-4-5' }, new Date('2026-11-10T00:00:00Z'));
    assert.equal(soon.status, 'fail');
    assert.match(soon.evidence[0] ?? '', /in 20 day\(s\)/);
    const ahead = checkPinnedModel({ model: 'claude-sonnet-4-5' }, new Date('2026-09-15T00:00:00Z'));
    assert.equal(ahead.status, 'pass');
    assert.match(ahead.evidence[0] ?? '', /^warning: .*2026-11-30/);
    assert.equal(checkPinnedModel({ model: 'claude-opus-6' }, NOW).status, 'pass');
    assert.equal(checkPinnedModel(config(), NOW).status, 'pass', 'the default model');
  });

  test('choosing a retired or soon-retired model is a guard rail; keeping one, or choosing an unknown one, is not', () => {
    const rails = crossedGuardRails(config(), config({ model: 'claude-sonnet-4-5' }), NOW);
    assert.deepEqual(rails.map((rail) => rail.id), ['model.retiring']);
    assert.match(rails[0]?.risk ?? '', /was retired on 2026-11-30/);
    const soon = crossedGuardRails(config(), config({ model: 'claude-sonnet-4-5-20250929' }), new Date('2026-11-05T00:00:00Z'));
    assert.deepEqual(soon.map((rail) => rail.id), ['model.retiring']);
    assert.deepEqual(crossedGuardRails(config(), config({ model: 'claude-sonnet-4-5' }), new Date('2026-06-01T00:00:00Z')), [], 'far ahead');
    const pinned = config({ model: 'claude-sonnet-4-5' });
    assert.deepEqual(crossedGuardRails(pinned, config({ model: 'claude-sonnet-4-5', dryRun: true }), NOW), [], 'a stored config stays readable and editable');
    assert.deepEqual(crossedGuardRails(config(), config({ model: 'claude-opus-6' }), NOW), [], 'a model newer than this build');
    assert.match(guardRailTitle('model.retiring'), /retired/);
  });
});
