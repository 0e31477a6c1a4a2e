// The daily language-model budget on the portal's settings page: shown in plain words with its current value,
// read strictly from the limits form with an error a non-engineer can act on, raising it above its default
// confirmed on a page that says what follows, lowering it saved at once.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { FormProblems, agencyOnlyPaths, patchFitsSection, patchOfForm, patchSchema } from '../../../orchestrator/src/portal/settings/settings-form.ts';
import { dollarText } from '../../../orchestrator/src/portal/settings/settings-page.ts';
import { hiddenValue, RecordingSettings, startSettingsHarness } from '../../helpers/settings-routes.ts';
import type { RouteHarness } from './portal-route-harness.ts';

function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', admins: ['dana@acme.example'], timezone: 'Europe/Paris', onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 }, ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

/** The limits form as the page posts it, the other limits at their defaults. */
const limitsForm = (budget: string): Record<string, string> => ({ perHour: '20', perDay: '100', bulkThreshold: '5', approvalTimeoutHours: '72', onboardingDays: '28', modelDailyBudgetUsd: budget });

/** The budget the form reads from `typed`, or its error message. */
function read(typed: string): number | string {
  try {
    return patchOfForm('limits', limitsForm(typed)).modelDailyBudgetUsd ?? 'absent';
  } catch (error) {
    if (!(error instanceof FormProblems)) throw error;
    return error.errors['modelDailyBudgetUsd'] ?? JSON.stringify(error.errors);
  }
}

/** The budget's input element as rendered. */
const budgetInput = (page: string): string => /<input id="modelDailyBudgetUsd"[^>]*>/.exec(page)?.[0] ?? '';

describe('reading the daily model budget from the limits form', () => {
  test('an amount in dollars, with at most two decimals, a "$" allowed', () => {
    assert.equal(read('20'), 20);
    assert.equal(read(' 12.50 '), 12.5);
    assert.equal(read('$25'), 25);
    assert.equal(read('US$ 7.5'), 7.5);
    assert.equal(read('12,50'), 12.5, 'a decimal comma, as a phone keypad in many locales types it');
    assert.equal(read('0'), 0);
    assert.equal(read('10000'), 10_000);
  });

  test('each wrong spelling says what to write instead', () => {
    assert.match(String(read('')), /is required/);
    assert.match(String(read('-5')), /0 or more/);
    assert.match(String(read('1,500')), /without a thousands separator/);
    assert.match(String(read('1,500.25')), /without a thousands separator/);
    assert.match(String(read('twenty')), /amount in US dollars, for example 20/);
    assert.match(String(read('1e3')), /amount in US dollars/);
    assert.match(String(read('Infinity')), /amount in US dollars/);
    assert.match(String(read('12.345')), /at most two decimals/);
    assert.match(String(read('10000.01')), /at most 10000/);
    assert.match(String(read('9'.repeat(400))), /at most 10000/, 'a huge number is refused, never read as Infinity');
  });

  test('a patch carried back through the confirmation step is held to the same cents', () => {
    const patch = (budget: unknown) => patchSchema.safeParse({ rateLimits: { perHour: 20, perDay: 100 }, bulkThreshold: 5, approvalTimeoutHours: 72, onboardingDays: 28, modelDailyBudgetUsd: budget });
    assert.equal(patch(12.5).success, true);
    for (const bad of [0.001, '20', null]) assert.equal(patch(bad).success, false, String(bad));
    assert.equal(patchFitsSection('limits', { rateLimits: { perHour: 20, perDay: 100 }, bulkThreshold: 5, approvalTimeoutHours: 72, onboardingDays: 28 }), false, 'a limits patch without the budget is not the form’s');
  });

  test('a client admin may restore a version that differs in the budget (it is theirs to change)', () => {
    assert.deepEqual(agencyOnlyPaths(['modelDailyBudgetUsd', 'model']), ['model']);
  });

  test('the page shows a value set by the agency as it is, so saving the form unchanged keeps it', () => {
    assert.equal(dollarText(20), '20');
    assert.equal(dollarText(12.5), '12.50');
    assert.equal(dollarText(0.005), '0.005');
  });
});

describe('the daily model budget on the settings page', () => {
  let settings: RecordingSettings;
  let harness: RouteHarness;
  before(async () => {
    harness = await startSettingsHarness(() => settings);
  });
  after(() => harness.close());
  beforeEach(() => {
    settings = new RecordingSettings(config({ modelDailyBudgetUsd: 12.5 }));
  });

  test('is shown in the limits form, in plain words, with its current value, its label and its explanation tied to the input', async () => {
    const page = await harness.get('/settings');
    assert.equal(page.status, 200);
    const limits = page.text.slice(page.text.indexOf('id="h-limits"'), page.text.indexOf('id="h-freetext"'));
    assert.match(limits, /<label for="modelDailyBudgetUsd">Daily language-model budget/);
    assert.match(limits, /Most the assistant may spend on the language model in one day, in US dollars\. When it is reached, new mail waits/);
    assert.match(limits, /midnight, Europe\/Paris/);
    const input = budgetInput(limits);
    assert.match(input, /value="12\.50"/);
    assert.match(input, /inputmode="decimal"/);
    assert.match(input, /aria-describedby="hint-modelDailyBudgetUsd"/);
    assert.doesNotMatch(input, /aria-invalid/);
    assert.match(limits, /id="hint-modelDailyBudgetUsd"/);
  });

  test('a wrong amount is not saved: the error is next to the field, linked from the summary, the typed value kept', async () => {
    const answer = await harness.post('/settings/section/limits', { base: '4', reason: 'cheaper', ...limitsForm('1,500') });
    assert.equal(answer.status, 400);
    assert.match(answer.text, /<a href="#err-modelDailyBudgetUsd">Daily language-model budget<\/a>/);
    assert.match(answer.text, /<p class="field-error" id="err-modelDailyBudgetUsd">write it without a thousands separator/);
    const input = budgetInput(answer.text);
    assert.match(input, /value="1,500"/);
    assert.match(input, /aria-describedby="err-modelDailyBudgetUsd hint-modelDailyBudgetUsd"/);
    assert.match(input, /aria-invalid="true"/);
    assert.equal(settings.changes.length, 0);
  });

  test('raising it above 20 is confirmed first, on a page saying what follows; then saved as confirmed', async () => {
    const shown = await harness.post('/settings/section/limits', { base: '4', reason: 'busy season', ...limitsForm('$50') });
    assert.equal(shown.status, 200);
    assert.match(shown.text, /Confirm this change/);
    assert.match(shown.text, /Raising the daily language-model budget above 20 US dollars/);
    assert.match(shown.text, /up to 50 US dollars a day/);
    assert.match(shown.text, /Daily language-model budget \(US dollars\): 12\.5 → 50/);
    assert.equal(hiddenValue(shown.text, 'rails'), 'modelDailyBudgetUsd');
    assert.equal(settings.changes.length, 0, 'nothing saved before the confirmation');
    const confirmed = await harness.post('/settings/confirm', { base: '4', reason: 'busy season', section: 'limits', patch: hiddenValue(shown.text, 'patch') ?? '', rails: hiddenValue(shown.text, 'rails') ?? '', confirm: 'yes' });
    assert.equal(confirmed.status, 303);
    assert.deepEqual(settings.changes.map((change) => [change.document.modelDailyBudgetUsd, change.confirm]), [[50, ['modelDailyBudgetUsd']]]);
  });

  test('lowering it, or raising it within the default, is saved at once; the other limits are kept', async () => {
    for (const [typed, saved] of [['5', 5], ['20', 20]] as const) {
      const answer = await harness.post('/settings/section/limits', { base: '4', reason: 'cheaper', ...limitsForm(typed) });
      assert.equal(answer.status, 303, typed);
      assert.equal(settings.changes.at(-1)?.document.modelDailyBudgetUsd, saved);
      assert.deepEqual(settings.changes.at(-1)?.confirm, []);
      assert.deepEqual(settings.changes.at(-1)?.document.rateLimits, { perHour: 20, perDay: 100 });
    }
  });

  test('a crafted confirmation beyond the schema’s bound is refused next to the field, nothing saved', async () => {
    const patch = JSON.stringify({ rateLimits: { perHour: 20, perDay: 100 }, bulkThreshold: 5, approvalTimeoutHours: 72, onboardingDays: 28, modelDailyBudgetUsd: 20_000 });
    const answer = await harness.post('/settings/confirm', { base: '4', reason: 'x', section: 'limits', patch, rails: 'modelDailyBudgetUsd', confirm: 'yes' });
    assert.equal(answer.status, 400);
    assert.match(answer.text, /id="err-modelDailyBudgetUsd"/);
    assert.equal(settings.changes.length, 0);
  });
});
