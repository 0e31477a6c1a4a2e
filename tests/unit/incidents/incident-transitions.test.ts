import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { IncidentContainmentStep } from '../../../orchestrator/src/ports/incident-store.ts';
import {
  addNote,
  closeIncident,
  confirmBreach,
  issueReport,
  notifiedClient,
  recordContainment,
  recordNotification,
} from '../../../orchestrator/src/services/incidents/incident-transitions.ts';
import { at, incident, phoneNotification } from './incident-fixture.ts';

const refused = (run: () => unknown, code: string, pattern: RegExp) =>
  assert.throws(run, (error: unknown) => isFleetError(error) && error.code === code && pattern.test(error.message));

const told = (clientId: string | null, hours: number) => phoneNotification(clientId, 'ceo@acme.example', hours);

const step = (outcome: 'success' | 'failed', name: IncidentContainmentStep['step'] = 'kill'): IncidentContainmentStep => ({
  clientId: 'acme',
  step: name,
  at: at(0.5).toISOString(),
  by: 'ops@host',
  outcome,
  detail: outcome,
});

describe('incident transitions', () => {
  test('a plain note changes no clock; an assessment note stops the assessment and response clocks once', () => {
    const noted = addNote(incident(), { assessment: false }, at(0.2));
    assert.deepEqual([noted.respondedAt, noted.assessedAt], [null, null]);
    const assessed = addNote(noted, { assessment: true }, at(0.5));
    assert.deepEqual([assessed.respondedAt, assessed.assessedAt], [at(0.5).toISOString(), at(0.5).toISOString()]);
    const again = addNote(assessed, { assessment: true }, at(2));
    assert.equal(again.assessedAt, at(0.5).toISOString(), 'the first assessment counts');
  });

  test('a breach is confirmed once, which also counts as the assessment', () => {
    const confirmed = confirmBreach(incident(), 'mailbox read by a third party', at(1));
    assert.equal(confirmed.confirmedAt, at(1).toISOString());
    assert.equal(confirmed.assessedAt, at(1).toISOString());
    assert.equal(confirmed.confirmedScope, 'mailbox read by a third party');
    refused(() => confirmBreach(confirmed, 'again', at(2)), 'conflict', /already confirmed/);
  });

  test('notifications: the client is the only one by default, must be one of the incident’s, and cannot be told in the future', () => {
    assert.equal(notifiedClient(incident(), undefined), 'acme');
    refused(() => notifiedClient(incident({ clients: ['acme', 'beta'] }), undefined), 'invalid_input', /say which/);
    refused(() => notifiedClient(incident(), 'gamma'), 'invalid_input', /does not concern gamma/);
    assert.equal(notifiedClient(incident({ clients: [] }), undefined), null);
    refused(() => recordNotification(incident(), { ...told('acme', 3) }, at(2)), 'invalid_input', /future/);
    refused(() => recordNotification(incident(), { ...told('acme', -1) }, at(2)), 'invalid_input', /before INC-1 was opened/);
    assert.equal(recordNotification(incident(), told('acme', 1), at(2)).notifications.length, 1);
  });

  test('containment: the incident is contained only when every step held', () => {
    const partial = recordContainment(incident(), [step('success', 'rotate'), step('failed', 'kill')], at(0.5));
    assert.equal(partial.status, 'open');
    assert.equal(partial.containedAt, null);
    assert.equal(partial.respondedAt, at(0.5).toISOString(), 'trying to contain is a response');
    const held = recordContainment(partial, [step('success', 'kill')], at(0.7));
    assert.equal(held.status, 'contained');
    assert.equal(held.containedAt, at(0.7).toISOString());
    assert.equal(held.containment.length, 3);
  });

  test('a confirmed breach closes only after every client was told', () => {
    const closure = { rootCause: 'leaked token', lessons: 'rotate monthly', remediation: null };
    const confirmed = confirmBreach(incident({ clients: ['acme', 'beta'] }), 'both mailboxes', at(1));
    refused(() => closeIncident(confirmed, closure, at(5)), 'conflict', /record that acme, beta was told/);
    const oneTold = recordNotification(confirmed, told('acme', 2), at(2));
    refused(() => closeIncident(oneTold, closure, at(5)), 'conflict', /record that beta was told/);
    const closed = closeIncident(recordNotification(oneTold, told('beta', 3), at(3)), closure, at(5));
    assert.equal(closed.status, 'closed');
    assert.equal(closed.rootCause, 'leaked token');
    refused(() => closeIncident(closed, closure, at(6)), 'conflict', /is closed/);
    refused(() => addNote(closed, { assessment: false }, at(6)), 'conflict', /is closed/);
  });

  test('a report before closing is a draft; the first one after closing is final and stops the clock', () => {
    const draft = issueReport(incident(), at(2), ['acme']);
    assert.equal(draft.final, false);
    assert.equal(draft.incident.reportIssuedAt, null);
    const closed = closeIncident(incident(), { rootCause: 'r', lessons: 'l', remediation: null }, at(3));
    const final = issueReport(closed, at(4), ['acme']);
    assert.equal(final.final, true);
    assert.equal(final.incident.reportIssuedAt, at(4).toISOString());
    assert.equal(issueReport(final.incident, at(9), ['acme']).incident.reportIssuedAt, at(4).toISOString(), 'the first final report counts');
  });
});
