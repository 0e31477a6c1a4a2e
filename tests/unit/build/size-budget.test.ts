import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkSizes, measureBundles, readBudget } from '../../../scripts/check-size-budget.ts';

describe('size budget (size-budget.json)', () => {
  test('the agent and orchestrator bundles, built now, are within their budget', async () => {
    const budget = await readBudget();
    const checks = checkSizes(await measureBundles(), budget.bundles, budget.tolerance);
    assert.deepEqual(
      checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.bytes} bytes, ${check.problem}`),
      [],
    );
    assert.deepEqual(checks.map((check) => check.name).sort(), ['agent.startup', 'agent.total', 'orchestrator.startup', 'orchestrator.total']);
  });

  test('a size more than the tolerance over its budget fails; at the limit it passes', () => {
    const entries = { agent: { bytes: 1000, reason: 'measured' } };
    assert.equal(checkSizes({ agent: 1100 }, entries, 0.1)[0]?.ok, true);
    const over = checkSizes({ agent: 1101 }, entries, 0.1)[0];
    assert.equal(over?.ok, false);
    assert.match(over?.problem ?? '', /10\.1 % over the budget/);
  });

  test('a size without a budget entry, or an entry without a reason, fails', () => {
    assert.equal(checkSizes({ other: 1 }, {}, 0.1)[0]?.ok, false);
    assert.equal(checkSizes({ agent: 1 }, { agent: { bytes: 1000, reason: ' ' } }, 0.1)[0]?.ok, false);
  });

  test('an image that is not built is reported, not failed', () => {
    const [check] = checkSizes({ 'agent-fleet/agent': null }, { 'agent-fleet/agent': { bytes: 1, reason: 'measured' } }, 0.1);
    assert.equal(check?.ok, true);
    assert.match(check?.problem ?? '', /not built/);
  });

  test('every budget entry says why', async () => {
    const budget = await readBudget();
    for (const [name, entry] of Object.entries({ ...budget.bundles, ...budget.images })) {
      assert.ok(entry.reason.trim().length > 0, `${name} has no reason`);
      assert.ok(Number.isInteger(entry.bytes) && entry.bytes > 0, `${name} has no size`);
    }
  });
});
