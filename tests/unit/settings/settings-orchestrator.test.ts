// The orchestrator's side of the settings, pure parts: the ops-log entries of a version, the grant
// against the scopes the settings need, the checkpoint's chain check, the portal's forms and charts, and
// the CLI's document round trip.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { FREE_TEXT_AUTO_SEND_RISK, parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { diffSettings } from '@agent-fleet/kernel/settings-diff';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { renderClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { VERSION_LINE, formatSettingsView } from '../../../orchestrator/src/cli/format/config.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import { barChart, summaryCharts } from '../../../orchestrator/src/portal/settings/charts.ts';
import { RULE_TYPES } from '../../../orchestrator/src/portal/settings/labels.ts';
import { FormProblems, applyPatch, patchOfForm } from '../../../orchestrator/src/portal/settings/settings-form.ts';
import { GRANT_STATUS_ACTIONS, grantStatusOf } from '../../../orchestrator/src/services/settings/grant-status.ts';
import { continuesFrom } from '../../../orchestrator/src/services/settings/settings-checkpoint.ts';
import { settingsChangeEntries, type VersionSummary } from '../../../orchestrator/src/services/settings/settings-ops-log.ts';

const NOW = new Date('2026-03-10T12:00:00.000Z');
function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 }, ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}
function version(before: ClientConfig, after: ClientConfig, guardRails: string[] = []): VersionSummary {
  return { version: 5, at: NOW.toISOString(), author: { kind: 'admin', id: 'dana@acme.example' }, reason: 'busy week', changes: diffSettings(before, after), guardRails, rollbackOf: null, source: 'api', configHash: 'c'.repeat(64), prevHash: 'p'.repeat(64), hash: 'h'.repeat(64) };
}
let seq = 0;
const entry = (action: string, details: Record<string, unknown>, outcome = 'success'): OpsLogEntry => ({ seq: ++seq, at: NOW.toISOString(), actor: 'ops', action, clientId: 'acme', reason: null, outcome, details, prevHash: '', hash: '' });

describe('the ops log of a settings version', () => {
  test('the change with its author, fields and version; one flag per guard rail with its risk; free-text opt-ins', () => {
    const before = config();
    const optIn = { type: 'follow_up' as const, acceptedRisk: FREE_TEXT_AUTO_SEND_RISK, acceptedBy: 'dana@acme.example', acceptedAt: NOW.toISOString() };
    const after = config({ rateLimits: { perHour: 40, perDay: 100 }, autoReply: { freeTextAutoSend: [optIn] } });
    const entries = settingsChangeEntries({ actor: 'client-admin:dana@acme.example', clientId: 'acme', version: version(before, after, ['rateLimits.perHour', 'freeText.follow_up']), previous: before, next: after, via: 'portal' });
    assert.deepEqual(entries.map((e) => e.action), ['config-change', 'settings-guard-rail', 'settings-guard-rail', 'auto-send-free-text-opt-in']);
    assert.deepEqual(entries[0]?.details['fields'], ['autoReply.freeTextAutoSend', 'rateLimits.perHour']);
    assert.equal(entries[0]?.details['author'], 'dana@acme.example (client admin)');
    assert.equal(entries[0]?.reason, 'busy week');
    assert.match(entries[1]?.reason ?? '', /More than 20 recipients an hour \(now 40\)/);
    assert.equal(entries[1]?.outcome, 'confirmed');
  });
});

describe('the mailbox grant against what the settings need', () => {
  const read = { 'mail.read': true, 'mail.draft': true, 'mail.label': true } as const;
  test('unknown without a recorded consent; needs re-consent when a capability needs a scope it lacks; narrowable with extra scopes', () => {
    assert.equal(grantStatusOf('acme', config({ permissions: read }), []).state, 'unknown');
    const consent = entry('mailbox-consent', { provider: 'gmail', scopes: gmailScopesFor(read), secretVersion: 1 });
    const sending = grantStatusOf('acme', config({ permissions: { ...read, 'mail.send': true } }), [consent]);
    assert.equal(sending.state, 'needs_reconsent');
    assert.deepEqual(sending.missing, ['https://www.googleapis.com/auth/gmail.send']);
    assert.match(sending.command, /^fleet connect acme --provider gmail /);
    assert.equal(grantStatusOf('acme', config({ permissions: read }), [consent]).state, 'ok');
    const narrower = grantStatusOf('acme', config({ permissions: { 'mail.read': true } }), [consent]);
    assert.deepEqual([narrower.state, narrower.extra], ['narrowable', ['https://www.googleapis.com/auth/gmail.compose', 'https://www.googleapis.com/auth/gmail.modify']]);
    assert.equal(grantStatusOf('acme', config({ permissions: { 'mail.read': true } }), [consent, entry('grant-narrow-requested', {})]).narrowRequested, true);
  });
  test('a provider secret replaced outside fleet connect makes the recorded scopes unknown', () => {
    const consent = entry('mailbox-consent', { provider: 'gmail', scopes: gmailScopesFor(read), secretVersion: 1 });
    assert.equal(grantStatusOf('acme', config({ permissions: read }), [consent, entry('secret-write', { name: 'gmail', version: 2 })]).state, 'unknown');
    assert.equal(grantStatusOf('acme', config({ permissions: read }), [consent, entry('secret-write', { name: 'anthropic', version: 2 })]).state, 'ok');
  });
  test('the status is the same from the actions it names alone (its caller reads only those from the ops log)', () => {
    const consent = entry('mailbox-consent', { provider: 'gmail', scopes: gmailScopesFor(read), secretVersion: 1 });
    const histories = [
      [consent, entry('kill', {}), entry('grant-narrow-requested', {})],
      [consent, entry('config-change', { version: 2 }), entry('secret-write', { name: 'gmail', version: 2 })],
      [entry('grant-narrow-requested', {}), consent, entry('revive', {})],
    ];
    const readOnly = (entries: OpsLogEntry[]) => entries.filter((candidate) => (GRANT_STATUS_ACTIONS as readonly string[]).includes(candidate.action));
    for (const permissions of [read, { 'mail.read': true }, { ...read, 'mail.send': true }]) {
      for (const history of histories) {
        assert.deepEqual(grantStatusOf('acme', config({ permissions }), readOnly(history)), grantStatusOf('acme', config({ permissions }), history));
      }
    }
  });
});

describe('the settings checkpoint', () => {
  const v = (n: number, prev: string) => ({ version: n, hash: `h${n}`, prevHash: prev });
  test('a head that continues the known chain is taken; a rewritten or shorter one is not', () => {
    assert.equal(continuesFrom({ version: 2, hash: 'h2' }, [v(4, 'h3'), v(3, 'h2'), v(2, 'h1')]), true);
    assert.equal(continuesFrom(null, [v(2, 'h1'), v(1, '0'.repeat(64))]), true);
    assert.equal(continuesFrom({ version: 2, hash: 'h2' }, [v(3, 'hX')]), false, 'version 3 does not follow the known version 2');
    assert.equal(continuesFrom({ version: 2, hash: 'h2' }, [{ version: 2, hash: 'other', prevHash: 'h1' }]), false, 'same number, other version');
  });
});

describe('the portal’s settings forms', () => {
  test('each section becomes a patch; unreadable numbers are named by field', () => {
    assert.deepEqual(patchOfForm('blocklist', { blockList: ' rival.example\n\nother.example, x.example ' }), { blockList: ['rival.example', 'other.example', 'x.example'] });
    assert.throws(() => patchOfForm('limits', { perHour: 'many', perDay: '100', bulkThreshold: '5', approvalTimeoutHours: '72', onboardingDays: '2.5', modelDailyBudgetUsd: '20' }), (error: FormProblems) => error instanceof FormProblems && Object.keys(error.errors).join() === 'perHour,onboardingDays');
    const everyType = Object.fromEntries(RULE_TYPES.map((type) => [`type.${type}`, 'ask']));
    const rules = patchOfForm('rules', { ...everyType, 'type.offer': 'always', 'type.follow_up': 'auto' });
    assert.deepEqual(rules, { autoSendTypes: ['follow_up'], alwaysApprovalTypes: ['offer'] });
    assert.throws(() => patchOfForm('rules', { ...everyType, 'type.offer': 'maybe' }), /rules: offer: choose one of the three rules/);
    assert.deepEqual(patchOfForm('permissions', { 'mail.read': 'on' }).permissions?.['mail.read'], true);
  });
  test('a patch keeps what the form does not offer; a new free-text opt-in states the risk and who accepted it', () => {
    const head = config({ alwaysApprovalTypes: ['offer', 'spam'] });
    const document = applyPatch(head, { autoSendTypes: [], alwaysApprovalTypes: ['offer'], freeText: ['follow_up'] }, 'dana@acme.example', NOW) as ClientConfig;
    assert.deepEqual(document.alwaysApprovalTypes, ['offer', 'spam'], 'spam keeps its rule');
    assert.deepEqual(document.autoReply.freeTextAutoSend, [{ type: 'follow_up', acceptedRisk: FREE_TEXT_AUTO_SEND_RISK, acceptedBy: 'dana@acme.example', acceptedAt: NOW.toISOString() }]);
  });
});

describe('the portal’s charts', () => {
  test('bars scale to a round maximum; stacked series pile up; the description states totals and the busiest day', () => {
    const chart = barChart({ id: 'c', title: 'Sent', unit: 'emails', days: ['2026-03-01', '2026-03-02'], series: [{ label: 'Sent', values: [3, 7], fill: '#000' }], mode: 'grouped' });
    assert.deepEqual(chart.gridLines.map((line) => line.label), ['0', '5', '10']);
    assert.ok((chart.rects[1]?.height ?? 0) > (chart.rects[0]?.height ?? 0));
    assert.equal(chart.description, '10 emails in the last 2 days (Sent: 10); the most on 2026-03-02 (7).');
    const stacked = summaryCharts({ timezone: 'UTC', days: ['d1'], sent: [0], drafted: [0], approvalsRequested: [0], approvalsDecided: [0], denials: { a: [1], b: [2] } }, (code) => code)[3]!;
    const [first, second] = stacked.rects;
    assert.equal(Math.round((first?.y ?? 0) - (second?.y ?? 0) - (second?.height ?? 0)), 0, 'the second reason sits on the first');
    assert.deepEqual(stacked.table.rows, [['d1', '2', '1']]);
  });
});

describe('fleet config show and set', () => {
  test('show prints YAML that parses back to the document, with the version line set reads', () => {
    const document = config({ blockList: ['rival.example'] });
    const text = formatSettingsView({
      clientId: 'acme' as never,
      version: { ...version(document, document), config: document },
      yaml: renderClientConfigYaml(document),
      grant: grantStatusOf('acme', document, []),
    });
    assert.equal(VERSION_LINE.exec(text)?.[1], '5');
    assert.deepEqual(parseClientConfig(parseYaml(text)).ok, true);
  });
});
