import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IncidentContainmentStep } from '../../../orchestrator/src/ports/incident-store.ts';
import { recordContainment } from '../../../orchestrator/src/services/incidents/incident-transitions.ts';
import { at, incident } from './incident-fixture.ts';

const step = (clientId: string, name: IncidentContainmentStep['step'], outcome: 'success' | 'failed'): IncidentContainmentStep => ({
  clientId,
  step: name,
  at: at(0.5).toISOString(),
  by: 'ops@host',
  outcome,
  detail: outcome,
});

describe('containment is judged on the whole record, not the last batch', () => {
  test('containing one client of two does not make the incident contained', () => {
    const two = incident({ clients: ['acme', 'beta'] });
    const oneDone = recordContainment(two, [step('beta', 'kill', 'success')], at(0.5));
    assert.equal(oneDone.status, 'open');
    assert.equal(oneDone.containedAt, null);
    const both = recordContainment(oneDone, [step('acme', 'kill', 'success')], at(0.8));
    assert.equal(both.status, 'contained');
    assert.equal(both.containedAt, at(0.8).toISOString());
  });

  test('a later batch of other steps that hold does not cover a step that failed and was never retried', () => {
    const killFailed = recordContainment(incident(), [step('acme', 'kill', 'failed')], at(0.5));
    assert.equal(killFailed.status, 'open');
    const rotated = recordContainment(killFailed, [step('acme', 'rotate', 'success')], at(0.7));
    assert.equal(rotated.status, 'open', 'the agent was never stopped');
    assert.equal(rotated.containedAt, null);
    const killed = recordContainment(rotated, [step('acme', 'kill', 'success')], at(0.9));
    assert.equal(killed.status, 'contained');
  });

  test('a failing retry of a step that already held does not undo the containment', () => {
    const held = recordContainment(incident(), [step('acme', 'rotate', 'success'), step('acme', 'kill', 'success')], at(0.5));
    assert.equal(held.status, 'contained');
    const retried = recordContainment(held, [step('acme', 'rotate', 'failed')], at(1));
    assert.equal(retried.status, 'contained');
    assert.equal(retried.containedAt, at(0.5).toISOString());
  });
});
