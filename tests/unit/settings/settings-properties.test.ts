// Property tests over the settings schema (fast-check): for every field, invalid values are refused with
// the field named, by the schema and by the agent's settings desk, and nothing is half applied: the
// version, the document and the gate in force stay as they were.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { SettingsDesk } from '../../../agent-image/src/services/settings/settings-desk.ts';
import { SettingsHistory } from '../../../agent-image/src/services/settings/settings-history.ts';
import { LiveSettings } from '../../../agent-image/src/services/settings/settings-source.ts';
import { validatedDocument, FormProblems } from '../../../orchestrator/src/portal/settings/settings-form.ts';

const text = (options: { minLength?: number; maxLength?: number } = {}) => fc.string({ maxLength: 40, ...options });
const notIn = (values: readonly string[]) => text({ minLength: 1 }).filter((value) => !values.includes(value));
const badNumber = (min: number, max: number, integer = true) =>
  fc.oneof(
    fc.integer({ min: -1_000_000, max: min - 1 }),
    fc.integer({ min: max + 1, max: max + 1_000_000 }),
    ...(integer ? [fc.double({ min, max, noNaN: true }).filter((value) => !Number.isInteger(value))] : []),
    fc.constant(Number.NaN),
    fc.string({ maxLength: 5 }),
    fc.constant(null),
  );
const badTime = fc.oneof(text().filter((value) => !/^([01]\d|2[0-3]):[0-5]\d$/.test(value)), fc.integer());
const badAddress = fc.oneof(fc.constantFrom('', 'no-at-sign', 'a@b', '@example.com', 'x@-bad-.com', 'Dana <dana@acme.com>', 'x y@acme.com'), fc.integer());

/** Each field with invalid values for it; `path` is the field a refusal must name. */
const FIELDS: { path: string; set: (document: Record<string, unknown>, value: unknown) => void; invalid: fc.Arbitrary<unknown> }[] = [
  { path: 'client', set: (d, v) => (d['client'] = v), invalid: fc.oneof(fc.constantFrom('Acme', '1acme', 'a', 'acme_', 'x'.repeat(40)), fc.integer()) },
  { path: 'displayName', set: (d, v) => (d['displayName'] = v), invalid: fc.oneof(fc.constant(''), fc.string({ minLength: 201, maxLength: 260 }), fc.integer()) },
  { path: 'provider', set: (d, v) => (d['provider'] = v), invalid: notIn(['gmail', 'outlook']) },
  { path: 'mailbox', set: (d, v) => (d['mailbox'] = v), invalid: badAddress },
  { path: 'admins', set: (d, v) => (d['admins'] = [v]), invalid: badAddress },
  { path: 'timezone', set: (d, v) => (d['timezone'] = v), invalid: fc.oneof(fc.constantFrom('Mars/Olympus', 'UTC+25', ''), fc.integer()) },
  { path: 'workingHours.start', set: (d, v) => (d['workingHours'] = { start: v, end: '18:00', days: [1] }), invalid: badTime },
  { path: 'workingHours.days', set: (d, v) => (d['workingHours'] = { start: '08:00', end: '18:00', days: [v] }), invalid: badNumber(1, 7) },
  { path: 'permissions', set: (d, v) => (d['permissions'] = v), invalid: fc.oneof(fc.constant({ 'mail.teleport': true }), fc.constant({ 'mail.send': 'yes' }), fc.integer()) },
  { path: 'onboarding.startedAt', set: (d, v) => (d['onboarding'] = { startedAt: v, days: 28 }), invalid: fc.oneof(fc.constantFrom('yesterday', '2026-13-01T00:00:00Z', '2026-01-01'), fc.integer()) },
  { path: 'onboarding.days', set: (d, v) => (d['onboarding'] = { days: v }), invalid: badNumber(0, 365) },
  { path: 'autoSendTypes', set: (d, v) => (d['autoSendTypes'] = [v]), invalid: notIn(['acknowledgement', 'scheduling_confirmation', 'follow_up', 'scheduling', 'question', 'routine', 'other', 'spam', 'newsletter']) },
  { path: 'alwaysApprovalTypes', set: (d, v) => (d['alwaysApprovalTypes'] = [v]), invalid: notIn(['offer', 'negotiation', 'client_facing', 'sensitive', 'new_contact', 'legal', 'financial', 'complaint']) },
  { path: 'blockList', set: (d, v) => (d['blockList'] = [v]), invalid: fc.oneof(fc.constantFrom('not a domain', 'http://x.com', '*.', 'a@', '-'), fc.integer()) },
  { path: 'rateLimits.perHour', set: (d, v) => (d['rateLimits'] = { perHour: v, perDay: 100_000 }), invalid: badNumber(0, 10_000) },
  { path: 'rateLimits.perDay', set: (d, v) => (d['rateLimits'] = { perHour: 0, perDay: v }), invalid: badNumber(0, 100_000) },
  { path: 'bulkThreshold', set: (d, v) => (d['bulkThreshold'] = v), invalid: badNumber(1, 1000) },
  { path: 'approvalTimeoutHours', set: (d, v) => (d['approvalTimeoutHours'] = v), invalid: badNumber(1, 720, false) },
  { path: 'dryRun', set: (d, v) => (d['dryRun'] = v), invalid: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) },
  { path: 'dailySummary.at', set: (d, v) => (d['dailySummary'] = { enabled: true, at: v }), invalid: badTime },
  { path: 'styleNotes', set: (d, v) => (d['styleNotes'] = v), invalid: fc.oneof(fc.string({ minLength: 4001, maxLength: 4100 }), fc.integer()) },
  { path: 'knownContacts', set: (d, v) => (d['knownContacts'] = [v]), invalid: badAddress },
  { path: 'triage.labelPrefix', set: (d, v) => (d['triage'] = { labelPrefix: v }), invalid: fc.oneof(fc.constantFrom('', '-x', 'a/b', 'x'.repeat(41)), fc.integer()) },
  { path: 'model', set: (d, v) => (d['model'] = v), invalid: fc.oneof(fc.constant(''), fc.string({ minLength: 101, maxLength: 120 }), fc.integer()) },
  { path: 'push.gmailTopic', set: (d, v) => (d['push'] = { gmailTopic: v }), invalid: fc.oneof(fc.constantFrom('topic', 'projects/x/subs/y', ''), fc.integer()) },
  { path: 'autoReply.language', set: (d, v) => (d['autoReply'] = { language: v }), invalid: notIn(['en', 'de', 'fr', 'es', 'it', 'nl']) },
  { path: 'autoReply.signature', set: (d, v) => (d['autoReply'] = { signature: v }), invalid: fc.oneof(fc.constantFrom('{{signature}}', 'a { b', '\u0007'), fc.string({ minLength: 301, maxLength: 320 })) },
];

const VALID = { client: 'acme', onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 } };
const documentWith = (field: (typeof FIELDS)[number], value: unknown) => {
  const document: Record<string, unknown> = structuredClone(VALID);
  field.set(document, value);
  return document;
};
const named = (message: string, path: string) => message.includes(`${path}:`) || message.includes(`${path}.`);

describe('the settings schema refuses every field’s invalid values, naming the field', () => {
  for (const field of FIELDS) {
    test(`${field.path}`, () => {
      fc.assert(
        fc.property(field.invalid, (value) => {
          const result = parseClientConfig(documentWith(field, value));
          assert.equal(result.ok, false, `${field.path} = ${JSON.stringify(value)} was accepted`);
          if (!result.ok) assert.ok(result.issues.some((issue) => named(issue, field.path)), `${field.path}: ${result.issues.join('; ')}`);
        }),
        { numRuns: 60 },
      );
    });
  }
  test('an unknown field is refused by name', () => {
    fc.assert(
      fc.property(text({ minLength: 1 }), (key) => {
        const result = parseClientConfig({ ...VALID, [`x-${key}`]: 1 });
        assert.equal(result.ok, false);
        if (!result.ok) assert.ok(result.issues.some((issue) => issue.includes(`x-${key}`)), result.issues.join('; '));
      }),
      { numRuns: 40 },
    );
  });
});

describe('the agent’s settings desk refuses them too, and applies nothing', () => {
  let directory: string;
  let audit: AuditLog;
  let desk: SettingsDesk;
  let live: LiveSettings;
  let start: ClientConfig;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'settings-props-'));
    const keys = KeyRing.single(randomBytes(32));
    audit = await AuditLog.open({ directory: join(directory, 'audit'), keys });
    const parsed = parseClientConfig(VALID);
    if (!parsed.ok) throw new Error('fixture');
    start = parsed.config;
    live = new LiveSettings(start);
    desk = new SettingsDesk({ history: await SettingsHistory.open({ directory: join(directory, 'state'), keys }), live, audit, now: () => new Date(), logger: createSilentLogger() });
    await desk.adoptFile(start);
  });
  after(async () => {
    await desk.close();
    await audit.close();
    await rm(directory, { recursive: true, force: true });
  });

  test('any invalid field: refused naming it; version, document and gate unchanged', async () => {
    const applied = live.current();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIELDS.filter((field) => field.path !== 'client')).chain((field) => fc.tuple(fc.constant(field), field.invalid)), async ([field, value]) => {
        const error = await desk.change({ baseVersion: 1, document: documentWith(field, value), author: { kind: 'admin', id: 'dana@acme.example' }, reason: 'p', confirm: [] }).then(
          () => null,
          (thrown: Error & { code?: string }) => thrown,
        );
        assert.ok(error !== null && error.code === 'invalid_input' && named(error.message, field.path), `${field.path}: ${error?.message}`);
        assert.equal(live.current(), applied, 'the settings in force are the very same object');
        assert.equal(desk.head().version, 1);
      }),
      { numRuns: 150 },
    );
  });

  test('the portal maps each schema refusal to the field that shows it', () => {
    const refused = (document: unknown) => {
      try {
        validatedDocument(document, {});
        return {};
      } catch (error) {
        assert.ok(error instanceof FormProblems);
        return error.errors;
      }
    };
    const base = JSON.parse(JSON.stringify(start)) as Record<string, unknown>;
    assert.ok(refused({ ...base, rateLimits: { perHour: -1, perDay: 100 } })['perHour']);
    assert.ok(refused({ ...base, rateLimits: { perHour: 5, perDay: 100_001 } })['perDay']);
    assert.ok(refused({ ...base, onboarding: { days: 400 } })['onboardingDays']);
    assert.match(refused({ ...base, blockList: ['ok.example', 'not a domain'] })['blockList'] ?? '', /^line 2 /);
    assert.ok(refused({ ...base, autoSendTypes: ['offer'] })['rules'], 'a type cannot be both auto-sent and always held');
  });
});
