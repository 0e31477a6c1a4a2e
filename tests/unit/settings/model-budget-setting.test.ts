// The daily model budget as a setting: validated, and raising it past its default is a guard rail (it is
// what a flood of inbound mail may cost); lowering it is free.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MODEL_DAILY_BUDGET_USD, parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { crossedGuardRails } from '@agent-fleet/kernel/settings-guard-rails';
import { guardRailTitle } from '../../../orchestrator/src/portal/settings/labels.ts';
import { inPlainWords } from '../../../orchestrator/src/portal/settings/change-text.ts';

const NOW = new Date('2026-12-07T12:00:00.000Z');

function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 }, ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

const ids = (before: ClientConfig, after: ClientConfig) => crossedGuardRails(before, after, NOW).map((rail) => rail.id);

describe('the daily model budget setting', () => {
  test('defaults to 20 USD and accepts 0 to 10 000, nothing else', () => {
    assert.equal(config().modelDailyBudgetUsd, MODEL_DAILY_BUDGET_USD);
    assert.equal(MODEL_DAILY_BUDGET_USD, 20);
    for (const good of [0, 0.5, 20, 10_000]) assert.equal(config({ modelDailyBudgetUsd: good }).modelDailyBudgetUsd, good);
    for (const bad of [-1, 10_001, Number.NaN, Number.POSITIVE_INFINITY, '20', null]) {
      const parsed = parseClientConfig({ client: 'acme', modelDailyBudgetUsd: bad });
      assert.equal(parsed.ok, false, String(bad));
      assert.match(parsed.ok ? '' : (parsed.issues[0] ?? ''), /^modelDailyBudgetUsd: /);
    }
  });

  test('raising it above its default is a guard rail stating the risk; lowering it, or raising it within the default, is not', () => {
    const rails = crossedGuardRails(config(), config({ modelDailyBudgetUsd: 200 }), NOW);
    assert.deepEqual(rails.map((rail) => rail.id), ['modelDailyBudgetUsd']);
    assert.match(rails[0]?.risk ?? '', /200 US dollars a day/);
    assert.deepEqual(ids(config({ modelDailyBudgetUsd: 200 }), config()), [], 'lowering');
    assert.deepEqual(ids(config({ modelDailyBudgetUsd: 5 }), config({ modelDailyBudgetUsd: 20 })), [], 'back up to the default');
    assert.deepEqual(ids(config({ modelDailyBudgetUsd: 200 }), config({ modelDailyBudgetUsd: 100 })), [], 'lowered, though still above the default');
  });

  test('the portal names it in plain words', () => {
    assert.match(guardRailTitle('modelDailyBudgetUsd'), /language-model budget above 20/);
    assert.match(inPlainWords('modelDailyBudgetUsd: Too big'), /“Daily language-model budget \(US dollars\)”/);
  });
});
