import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  ONBOARDING_ITEMS,
  onboardingReport,
  parseHumanItem,
} from '../../../orchestrator/src/domain/onboarding-checklist.ts';
import {
  checkDraftReviewSend,
  checkGrantScopes,
  checkRateLimits,
} from '../../../orchestrator/src/domain/onboarding-config-checks.ts';
import { recordedScopes } from '../../../orchestrator/src/adapters/vault/vault-grant-scopes.ts';

function config(data: Record<string, unknown> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', ...data });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

const NOW = new Date('2026-12-10T12:00:00.000Z');
const PROVISIONED = { onboardingStartedAt: '2026-12-01T00:00:00.000Z', createdAt: '2026-12-01T00:00:00.000Z' };

describe('the checklist items judged from the applied config', () => {
  test('draft-review-send needs a window of at least 28 days', () => {
    const ok = checkDraftReviewSend(config(), PROVISIONED, NOW);
    assert.equal(ok.status, 'pass');
    assert.deepEqual(ok.evidence, [
      "draft-review-send for 28 days from 2026-12-01: every send needs a client admin's approval until 2026-12-29",
    ]);
    const short = checkDraftReviewSend(config({ onboarding: { days: 14 } }), PROVISIONED, NOW);
    assert.equal(short.status, 'fail');
    assert.match(short.evidence[0] ?? '', /onboarding window is 14 day\(s\)/);
  });

  test('a window dated before the client existed does not cover its first four weeks', () => {
    const backdated = config({ onboarding: { startedAt: '2020-01-01T00:00:00Z', days: 28 } });
    const dates = { onboardingStartedAt: '2020-01-01T00:00:00Z', createdAt: PROVISIONED.createdAt };
    const outcome = checkDraftReviewSend(backdated, dates, NOW);
    assert.equal(outcome.status, 'fail');
    assert.match(outcome.evidence[0] ?? '', /before the client was provisioned \(2026-12-01\)/);
    const confirmed = checkDraftReviewSend(backdated, dates, NOW, (rail) =>
      rail === 'onboarding.ended_early' ? { by: 'carol', at: '2026-12-02T00:00:00.000Z' } : undefined,
    );
    assert.equal(confirmed.status, 'pass', 'an early end someone confirmed is on record');
    assert.match(confirmed.evidence[0] ?? '', /confirmed by carol/);
    const later = config({ onboarding: { startedAt: '2026-12-05T00:00:00Z', days: 28 } });
    assert.equal(checkDraftReviewSend(later, PROVISIONED, NOW).status, 'pass', 'a start after provisioning holds longer');
  });

  test('rate limits are reported, above the spec’s defaults noted', () => {
    assert.deepEqual(checkRateLimits(config()).evidence, ['20 recipients an hour, 100 a day']);
    assert.match(
      checkRateLimits(config({ rateLimits: { perHour: 50, perDay: 300 } })).evidence[0] ?? '',
      /above the spec's defaults/,
    );
  });

  test('the stored grant must hold exactly the scopes the settings need', () => {
    const settings = config({ permissions: { 'mail.read': true, 'mail.draft': true } });
    const needed = gmailScopesFor({ 'mail.read': true, 'mail.draft': true });
    assert.equal(checkGrantScopes(settings, needed).status, 'pass');
    assert.equal(
      checkGrantScopes(
        settings,
        needed.map((scope) => scope.toUpperCase()),
      ).status,
      'pass',
      'case-insensitive',
    );
    const extra = checkGrantScopes(settings, [...needed, 'https://www.googleapis.com/auth/gmail.send']);
    assert.equal(extra.status, 'fail');
    assert.match(
      extra.evidence.join('\n'),
      /granted beyond that: https:\/\/www\.googleapis\.com\/auth\/gmail\.send/,
    );
    const missing = checkGrantScopes(settings, needed.slice(1));
    assert.equal(missing.status, 'fail');
    assert.match(missing.evidence.join('\n'), /not granted: /);
    assert.match(checkGrantScopes(settings, null).evidence[0] ?? '', /does not record its scopes/);
  });

  test('a stored grant records its scopes as `scope` (space-separated) or `scopes`', () => {
    assert.deepEqual(recordedScopes(JSON.stringify({ refresh_token: 'r', scope: 'a b  c' })), [
      'a',
      'b',
      'c',
    ]);
    assert.deepEqual(recordedScopes(JSON.stringify({ refresh_token: 'r', scopes: ['a'] })), ['a']);
    assert.equal(recordedScopes(JSON.stringify({ refresh_token: 'r' })), null);
    assert.equal(recordedScopes('not json'), null);
  });
});

describe('the checklist report', () => {
  test('every item of the spec, in its order; an item without an outcome is pending and open', () => {
    const report = onboardingReport('acme', NOW, 'alice', {
      'rate-limits': { status: 'pass', evidence: ['20/100'] },
      dpa: { status: 'fail', evidence: ['x'] },
    });
    assert.equal(report.items.length, 14);
    assert.deepEqual(
      report.items.map((item) => item.id),
      ONBOARDING_ITEMS.map((item) => item.id),
    );
    assert.deepEqual(report.open, { required: 13, total: 13 });
    assert.equal(report.items.find((item) => item.id === 'anomaly-alerts')?.status, 'pending');
  });

  test('every item not done says what to run: a fleet command', () => {
    const report = onboardingReport('acme', NOW, 'alice', {});
    for (const item of report.items)
      assert.ok(
        item.evidence.some((line) => /\bfleet [a-z]+ /.test(line)),
        `${item.id}: ${item.evidence.join(' | ')}`,
      );
    const done = onboardingReport('acme', NOW, 'alice', { 'rate-limits': { status: 'pass', evidence: ['20/100'] } });
    assert.deepEqual(done.items.find((item) => item.id === 'rate-limits')?.evidence, ['20/100'], 'a passed item gets none');
  });

  test('only the human items are attested', () => {
    assert.equal(parseHumanItem('dpa'), 'dpa');
    const refusal = (raw: string) => {
      try {
        parseHumanItem(raw);
        return 'accepted';
      } catch (error) {
        return isFleetError(error) ? error.message : 'not a FleetError';
      }
    };
    assert.match(refusal('oauth-scopes'), /checked by the doctor against the live system/);
    assert.match(refusal('coffee'), /unknown checklist item "coffee"/);
  });
});
