import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CAPABILITIES, EMAIL_TYPES, FREE_TEXT_AUTO_SEND_RISK, TEMPLATE_TYPES, parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { emptyPolicyState, learnContacts, recordSend, type PolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { ACTION_KINDS, parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { NOW } from './fixtures.ts';

const POOL = ['a@one.com', 'b@one.com', 'c@two.org', 'd@sub.two.org', 'e@three.net', 'f@four.io'];
const BLOCK_ENTRIES = ['a@one.com', 'one.com', 'two.org', '*.two.org', 'three.net', 'f@four.io'];
const AUTO_CANDIDATES = EMAIL_TYPES.filter((type) => type !== 'spam');

const address = fc.constantFrom(...POOL);
const addresses = fc.uniqueArray(address, { maxLength: 4 });
const text = fc.oneof(fc.constant('hello'), fc.constant('see https://bit.ly/x'), fc.constant('see https://example.com/a'));

const action = fc.oneof(
  fc.record({ kind: fc.constantFrom('mail.read', 'calendar.read', 'files.read', 'crm.read') }),
  fc.record({
    kind: fc.constantFrom('mail.send', 'mail.draft'),
    to: fc.uniqueArray(address, { minLength: 1, maxLength: 4 }),
    cc: addresses,
    bcc: addresses,
    subject: fc.constant('s'),
    body: text,
    emailType: fc.option(fc.constantFrom(...EMAIL_TYPES), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('mail.label'), messageIds: fc.constant(['m1']), add: fc.constant(['x']) }),
  fc.record({ kind: fc.constant('mail.delete'), messageIds: fc.constant(['m1']) }),
  fc.record({ kind: fc.constant('mail.move'), messageIds: fc.constant(['m1']), destination: fc.constant('Archive') }),
  fc.record({ kind: fc.constant('calendar.write'), operation: fc.constantFrom('create', 'update', 'cancel'), participants: addresses, description: text }),
  fc.record({ kind: fc.constant('files.share'), fileId: fc.constant('f1'), recipients: addresses, permission: fc.constant('read'), public: fc.boolean() }),
  fc.record({ kind: fc.constant('files.write'), operation: fc.constantFrom('create', 'append') }),
  fc.record({ kind: fc.constant('files.delete'), fileId: fc.constant('f1') }),
  fc.record({ kind: fc.constant('crm.write'), operation: fc.constantFrom('create', 'update', 'delete'), recordType: fc.constant('deal') }),
);

type Knobs = {
  permissions: boolean[];
  blockList: string[];
  autoSendTypes: string[];
  alwaysApprovalTypes: string[];
  knownContacts: string[];
  perHour: number;
  perDay: number;
  bulkThreshold: number;
  dryRun: boolean;
  onboardingStartDaysAgo: number | undefined;
  /** Auto-send types opted in to free text (a subset of autoSendTypes). */
  freeText?: string[];
};

const knobs: fc.Arbitrary<Knobs> = fc
  .record({
    permissions: fc.array(fc.boolean(), { minLength: CAPABILITIES.length, maxLength: CAPABILITIES.length }),
    blockList: fc.subarray(BLOCK_ENTRIES),
    autoSendTypes: fc.subarray(AUTO_CANDIDATES),
    alwaysApprovalTypes: fc.subarray([...EMAIL_TYPES]),
    knownContacts: fc.subarray(POOL),
    perHour: fc.integer({ min: 0, max: 12 }),
    extraPerDay: fc.integer({ min: 0, max: 12 }),
    bulkThreshold: fc.integer({ min: 1, max: 6 }),
    dryRun: fc.boolean(),
    onboardingStartDaysAgo: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    freeText: fc.subarray([...TEMPLATE_TYPES] as string[]),
  })
  .map(({ extraPerDay, ...rest }) => {
    const autoSendTypes = rest.autoSendTypes.filter((type) => !rest.alwaysApprovalTypes.includes(type));
    return { ...rest, perDay: rest.perHour + extraPerDay, autoSendTypes, freeText: rest.freeText.filter((type) => (autoSendTypes as string[]).includes(type)) };
  });

/** A config at least as strict as `loose` in every dimension, chosen by `choices`. */
const stricter = (loose: Knobs) =>
  fc
    .record({
      dropPermissions: fc.array(fc.boolean(), { minLength: CAPABILITIES.length, maxLength: CAPABILITIES.length }),
      moreBlocked: fc.subarray(BLOCK_ENTRIES),
      fewerAuto: fc.subarray(loose.autoSendTypes),
      moreAlways: fc.subarray([...EMAIL_TYPES]),
      fewerContacts: fc.subarray(loose.knownContacts),
      perHour: fc.integer({ min: 0, max: loose.perHour }),
      perDayCut: fc.integer({ min: 0, max: 12 }),
      bulkThreshold: fc.integer({ min: 1, max: loose.bulkThreshold }),
      dryRun: fc.boolean(),
      restartOnboarding: fc.boolean(),
      fewerFreeText: fc.subarray(loose.freeText ?? []),
    })
    .map((choice): Knobs => {
      const alwaysApprovalTypes = [...new Set([...loose.alwaysApprovalTypes, ...choice.moreAlways])];
      const perDay = Math.max(choice.perHour, loose.perDay - choice.perDayCut);
      const autoSendTypes = choice.fewerAuto.filter((type) => !alwaysApprovalTypes.includes(type));
      return {
        permissions: loose.permissions.map((granted, index) => granted && !choice.dropPermissions[index]),
        blockList: [...new Set([...loose.blockList, ...choice.moreBlocked])],
        autoSendTypes,
        alwaysApprovalTypes,
        freeText: choice.fewerFreeText.filter((type) => autoSendTypes.includes(type)),
        knownContacts: choice.fewerContacts,
        perHour: choice.perHour,
        perDay,
        bulkThreshold: choice.bulkThreshold,
        dryRun: loose.dryRun || choice.dryRun,
        // Onboarding restarted today is always active; otherwise keep the loose start.
        onboardingStartDaysAgo: choice.restartOnboarding ? 0 : loose.onboardingStartDaysAgo,
      };
    });

function toConfig(k: Knobs): ClientConfig {
  const input: ClientConfigInput = {
    client: 'prop',
    permissions: Object.fromEntries(CAPABILITIES.map((capability, index) => [capability, k.permissions[index] ?? false])),
    blockList: k.blockList,
    autoSendTypes: k.autoSendTypes as ClientConfigInput['autoSendTypes'],
    alwaysApprovalTypes: k.alwaysApprovalTypes as ClientConfigInput['alwaysApprovalTypes'],
    knownContacts: k.knownContacts,
    rateLimits: { perHour: k.perHour, perDay: k.perDay },
    bulkThreshold: k.bulkThreshold,
    dryRun: k.dryRun,
    autoReply: {
      freeTextAutoSend: (k.freeText ?? []).map((type) => ({
        type: type as (typeof TEMPLATE_TYPES)[number],
        acceptedRisk: FREE_TEXT_AUTO_SEND_RISK,
        acceptedBy: 'owner@prop.example',
        acceptedAt: '2025-01-01T00:00:00Z',
      })),
    },
    onboarding:
      k.onboardingStartDaysAgo === undefined
        ? { days: 28 }
        : { days: 28, startedAt: new Date(NOW.getTime() - k.onboardingStartDaysAgo * 86_400_000).toISOString() },
  };
  const result = parseClientConfig(input);
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return result.config;
}

const policyState: fc.Arbitrary<PolicyState> = fc
  .record({
    killed: fc.integer({ min: 0, max: 9 }).map((roll) => roll === 0),
    paused: fc.boolean(),
    learnt: fc.subarray(POOL),
    sends: fc.array(fc.record({ minutesAgo: fc.integer({ min: 1, max: 2000 }), to: fc.uniqueArray(address, { minLength: 1, maxLength: 3 }) }), { maxLength: 6 }),
  })
  .map(({ killed, paused, learnt, sends }) => {
    let st = learnContacts({ ...emptyPolicyState(), killed, paused }, learnt);
    for (const sent of [...sends].sort((a, b) => b.minutesAgo - a.minutesAgo)) st = recordSend(st, new Date(NOW.getTime() - sent.minutesAgo * 60_000), sent.to);
    return st;
  });

describe('policy gate properties', () => {
  it('a stricter config never allows what a looser config denies or holds', () => {
    fc.assert(
      fc.property(
        knobs.chain((loose) => fc.tuple(fc.constant(loose), stricter(loose))),
        action,
        policyState,
        ([looseKnobs, strictKnobs], proposed, st) => {
          // The learnt contacts of the state apply to both; the stricter config seeds no more than the looser.
          const looseDecision = evaluatePolicy(proposed, toConfig(looseKnobs), st, NOW);
          const strictDecision = evaluatePolicy(proposed, toConfig(strictKnobs), st, NOW);
          if (looseDecision.decision !== 'allow') {
            assert.notEqual(strictDecision.decision, 'allow', JSON.stringify({ looseDecision, strictDecision }));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('random garbage never yields allow', () => {
    const garbage = fc.oneof(
      fc.anything(),
      fc.jsonValue(),
      fc.record({ kind: fc.string().filter((kind) => !(ACTION_KINDS as readonly string[]).includes(kind)) }, { requiredKeys: [] }),
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.record({ kind: fc.constantFrom('mail.send', 'files.share', 'calendar.write'), to: fc.anything(), recipients: fc.anything(), participants: fc.anything(), junk: fc.anything() }),
    );
    fc.assert(
      fc.property(garbage, (input) => {
        const decision = evaluatePolicy(input, toConfig({ permissions: CAPABILITIES.map(() => true), blockList: [], autoSendTypes: [...AUTO_CANDIDATES].filter((t) => t !== 'offer'), alwaysApprovalTypes: ['offer'], knownContacts: POOL, perHour: 100, perDay: 100, bulkThreshold: 100, dryRun: false, onboardingStartDaysAgo: 60 }), emptyPolicyState(), NOW);
        assert.notEqual(decision.decision, 'allow');
        assert.deepEqual(decision.reasons, ['unparseable']);
      }),
      { numRuns: 1000 },
    );
  });

  it('only input that parses as an action can ever be allowed', () => {
    const cfg = toConfig({ permissions: CAPABILITIES.map(() => true), blockList: [], autoSendTypes: ['follow_up'], alwaysApprovalTypes: [], knownContacts: POOL, perHour: 100, perDay: 100, bulkThreshold: 100, dryRun: false, onboardingStartDaysAgo: 60 });
    const mutated = action.chain((base) =>
      fc.record({ key: fc.constantFrom('kind', 'to', 'recipients', 'participants', 'operation', 'emailType', 'extra'), value: fc.anything() }).map(({ key, value }) => ({ ...base, [key]: value })),
    );
    fc.assert(
      fc.property(fc.oneof(action, mutated), (input) => {
        const decision = evaluatePolicy(input, cfg, emptyPolicyState(), NOW);
        if (decision.decision === 'allow') assert.ok(parseProposedAction(input).ok);
        if (!parseProposedAction(input).ok) assert.deepEqual(decision.reasons, ['unparseable']);
      }),
      { numRuns: 1000 },
    );
  });
});
