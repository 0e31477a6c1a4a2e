// What `fleet doctor` says as a whole: a failed item told apart from items only pending (in the verdict, its
// exit status and its last line), an attestation that reads as recorded, and options that are never dropped
// in silence.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { doctorRequestOf } from '../../../orchestrator/src/cli/commands/doctor-options.ts';
import { DOCTOR_EXIT_CODES, EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { formatAttestation, formatChecklist } from '../../../orchestrator/src/cli/format/doctor.ts';
import {
  checklistVerdict,
  onboardingReport,
  ONBOARDING_ITEMS,
  type ItemOutcome,
  type OnboardingItemId,
} from '../../../orchestrator/src/domain/onboarding-checklist.ts';

const NOW = new Date('2026-06-10T12:00:00.000Z');
const passed: ItemOutcome = { status: 'pass', evidence: ['seen'] };

/** A report with every item passed except the ones given. */
function reportWith(overrides: Partial<Record<OnboardingItemId, ItemOutcome>> = {}) {
  const outcomes = Object.fromEntries(
    ONBOARDING_ITEMS.map((item) => [item.id, overrides[item.id] ?? passed]),
  );
  return onboardingReport('acme', NOW, 'alice', outcomes);
}

const invalidInput = (error: unknown) => error instanceof FleetError && error.code === 'invalid_input';

describe('the checklist verdict', () => {
  test('is complete only with every required item passed', () => {
    assert.equal(checklistVerdict(reportWith()), 'complete');
  });

  test('is pending when items are open and none failed', () => {
    const report = reportWith({ dpa: { status: 'pending', evidence: ['not attested'] } });
    assert.equal(checklistVerdict(report), 'pending');
  });

  test('is failed when one item failed, whatever else is pending', () => {
    const report = reportWith({
      dpa: { status: 'pending', evidence: ['not attested'] },
      'rate-limits': { status: 'fail', evidence: ['too high'] },
    });
    assert.equal(checklistVerdict(report), 'failed');
  });
});

describe('the doctor’s exit statuses', () => {
  test('tell failed from pending, with failed keeping the conflict status it always had', () => {
    assert.equal(DOCTOR_EXIT_CODES.complete, 0);
    assert.equal(DOCTOR_EXIT_CODES.failed, EXIT_CODES.conflict);
    assert.notEqual(DOCTOR_EXIT_CODES.pending, DOCTOR_EXIT_CODES.failed);
  });

  test('pending is no status an error of the doctor run could exit with', () => {
    assert.equal(Object.values(EXIT_CODES).includes(DOCTOR_EXIT_CODES.pending), false);
  });
});

describe('the printed checklist', () => {
  test('a human item not attested yet is not labelled attested', () => {
    const text = formatChecklist(reportWith({ dpa: { status: 'pending', evidence: ['not attested'] } }));
    const line = text.split('\n').find((candidate) => candidate.includes(' dpa '));
    assert.ok(line);
    assert.doesNotMatch(line, /\[attested\]/);
  });

  test('ends saying how many failed and are pending, and to run the doctor again', () => {
    const text = formatChecklist(
      reportWith({
        dpa: { status: 'pending', evidence: ['not attested'] },
        'rate-limits': { status: 'fail', evidence: ['too high'] },
      }),
    );
    assert.match(
      text.split('\n').at(-1) ?? '',
      /^1 required item\(s\) FAILED, 1 pending: .*run fleet doctor acme again$/,
    );
  });

  test('with only pending items, ends saying none failed', () => {
    const text = formatChecklist(reportWith({ dpa: { status: 'pending', evidence: ['not attested'] } }));
    assert.match(text.split('\n').at(-1) ?? '', /^none failed, 1 of 14 required item\(s\) pending: /);
  });

  test('an attestation is first said to be recorded, with what was recorded', () => {
    const report = reportWith({
      dpa: { status: 'pass', evidence: ['attested by bob at 2026-06-10T12:00:00.000Z: DMS 4411'] },
      'week1-review-call': { status: 'pending', evidence: ['not attested'] },
    });
    assert.equal(
      formatAttestation(report, 'dpa').split('\n')[0],
      'recorded: dpa: attested by bob at 2026-06-10T12:00:00.000Z: DMS 4411',
    );
  });
});

describe('the doctor’s options', () => {
  const none = { marker: [] };

  test('a plain run checks, with the markers and the sandbox emulator', () => {
    assert.deepEqual(
      doctorRequestOf({ ...none, marker: ['canary-1'], sandbox: true, emulator: 'http://emu' }),
      {
        kind: 'check',
        check: { markers: ['canary-1'], sandboxEmulator: 'http://emu' },
      },
    );
  });

  test('an attestation carries its trimmed note', () => {
    assert.deepEqual(doctorRequestOf({ ...none, attest: 'dpa', note: ' DMS 4411 ', notApplicable: true }), {
      kind: 'attest',
      attestation: { item: 'dpa', note: 'DMS 4411', notApplicable: true },
    });
  });

  test('an attestation refuses the run’s options it would ignore', () => {
    for (const extra of [
      { marker: ['canary-1'] },
      { sandbox: true, emulator: 'http://emu' },
      { emulator: 'http://emu' },
    ])
      assert.throws(() => doctorRequestOf({ ...none, attest: 'dpa', note: 'n', ...extra }), invalidInput);
  });

  test('a note or not-applicable without --attest is refused, not dropped', () => {
    assert.throws(() => doctorRequestOf({ ...none, note: 'signed' }), invalidInput);
    assert.throws(() => doctorRequestOf({ ...none, notApplicable: true }), invalidInput);
  });

  test('an emulator without --sandbox is refused, and --sandbox needs one', () => {
    assert.throws(() => doctorRequestOf({ ...none, emulator: 'http://emu' }), invalidInput);
    assert.throws(() => doctorRequestOf({ ...none, sandbox: true }), invalidInput);
  });

  test('an attestation needs a note', () => {
    assert.throws(() => doctorRequestOf({ ...none, attest: 'dpa', note: '  ' }), invalidInput);
  });
});
