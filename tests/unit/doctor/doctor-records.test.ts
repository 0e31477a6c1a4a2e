// What the doctor reads from the ops log: a documentation of the settings attested before they changed is
// no longer a documentation of them, and only a confirmation that still stands counts for a guard rail.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import {
  attestedOutcome,
  foldAttestations,
  foldRailConfirmations,
} from '../../../orchestrator/src/services/doctor/doctor-records.ts';

function entries(...made: Omit<OpsLogEntry, 'seq' | 'prevHash' | 'hash' | 'at' | 'clientId' | 'reason'>[]): OpsLogEntry[] {
  return made.map((entry, index) => ({
    ...entry,
    seq: index + 1,
    at: `2026-06-0${index + 1}T09:00:00.000Z`,
    clientId: 'acme',
    reason: 'note',
    prevHash: '',
    hash: '',
  }));
}

const attest = (item: string) => ({ actor: 'alice', action: 'onboarding-attest', outcome: 'success', details: { item, notApplicable: false } });
const change = { actor: 'bob', action: 'config-change', outcome: 'success', details: { version: 3 } };

describe('attested items against later changes', () => {
  test('documenting the configuration is pending again once the settings changed after it', () => {
    const log = entries(attest('configuration-documented'), change);
    const outcome = attestedOutcome('acme', 'configuration-documented', foldAttestations(log).get('configuration-documented'), log);
    assert.equal(outcome.status, 'pending');
    assert.match(outcome.evidence[0] ?? '', /the settings changed since \(version 3, by bob at 2026-06-02/);
    assert.match(outcome.evidence[0] ?? '', /fleet doctor acme --attest configuration-documented --note/);
  });

  test('an attestation after the change, or of another item, stands', () => {
    const log = entries(change, attest('configuration-documented'), attest('dpa'), change);
    const attestations = foldAttestations(log);
    assert.equal(attestedOutcome('acme', 'dpa', attestations.get('dpa'), log).status, 'pass');
    const again = entries(change, attest('configuration-documented'));
    assert.equal(
      attestedOutcome('acme', 'configuration-documented', foldAttestations(again).get('configuration-documented'), again).status,
      'pass',
    );
  });
});

describe('guard-rail confirmations on record', () => {
  test('the last crossing of a rail decides; a provisioning opt-in to free text names who accepted it', () => {
    const rail = (outcome: string) => ({ actor: 'carol', action: 'settings-guard-rail', outcome, details: { rail: 'bulkThreshold' } });
    const optIn = { actor: 'ops', action: 'auto-send-free-text-opt-in', outcome: 'recorded', details: { type: 'follow_up', acceptedBy: 'admin@acme.example' } };
    const confirmations = foldRailConfirmations(entries(rail('confirmed'), optIn));
    assert.equal(confirmations('bulkThreshold')?.by, 'carol');
    assert.match(confirmations('freeText.follow_up')?.by ?? '', /^admin@acme\.example \(recorded by ops\)$/);
    assert.equal(foldRailConfirmations(entries(rail('confirmed'), rail('made-by-config-file')))('bulkThreshold'), undefined);
    assert.equal(confirmations('approval.offer'), undefined);
  });

  test('an opt-in at a later provisioning counts over an earlier record of the rail; a change’s own crossing record decides for its opt-in', () => {
    const rail = (outcome: string, version?: number) => ({ actor: 'carol', action: 'settings-guard-rail', outcome, details: { rail: 'freeText.follow_up', ...(version === undefined ? {} : { version }) } });
    const optIn = (version?: number) => ({ actor: 'ops', action: 'auto-send-free-text-opt-in', outcome: 'recorded', details: { type: 'follow_up', acceptedBy: 'admin@acme.example', ...(version === undefined ? {} : { version }) } });
    assert.match(foldRailConfirmations(entries(rail('not-confirmed', 2), optIn()))('freeText.follow_up')?.by ?? '', /^admin@acme\.example/);
    assert.equal(foldRailConfirmations(entries(rail('made-by-config-file', 3), optIn(3)))('freeText.follow_up'), undefined);
    assert.match(foldRailConfirmations(entries(rail('made-by-config-file', 3), optIn(4)))('freeText.follow_up')?.by ?? '', /^admin@acme\.example/);
  });

  test('a change the checkpoint recorded is confirmed by its author, not by "system"', () => {
    const recorded = { actor: 'system', action: 'settings-guard-rail', outcome: 'confirmed', details: { rail: 'bulkThreshold', version: 5, author: 'client-admin:ann@acme.example' } };
    assert.equal(foldRailConfirmations(entries(recorded))('bulkThreshold')?.by, 'client-admin:ann@acme.example (recorded by system)');
  });
});
