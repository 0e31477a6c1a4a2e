import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { incidentClocks } from '../../../orchestrator/src/services/incidents/incident-clocks.ts';
import { closeIncident, confirmBreach, recordNotification } from '../../../orchestrator/src/services/incidents/incident-transitions.ts';
import { at, incident, phoneNotification } from './incident-fixture.ts';

const settings = { timeZone: 'Europe/London' };
const closure = { rootCause: 'leaked token', lessons: 'rotate monthly', remediation: null };

const told = (clientId: string, hours: number, recordedHours = hours) => phoneNotification(clientId, '', hours, recordedHours);

const notificationClock = (record: ReturnType<typeof incident>, hours: number) => {
  const found = incidentClocks(record, at(hours), settings).find((clock) => clock.name === 'notification');
  assert.ok(found);
  return found;
};

describe('the notification clock runs from the confirmation', () => {
  test('a heads-up before the breach was confirmed does not stop the clock or allow closing', () => {
    const headsUp = recordNotification(incident(), told('acme', 1), at(1));
    const confirmed = confirmBreach(headsUp, 'mailbox read by a third party', at(3));
    const clock = notificationClock(confirmed, 30);
    assert.equal(clock.state, 'overdue', JSON.stringify(clock));
    assert.throws(
      () => closeIncident(confirmed, closure, at(30)),
      (error: unknown) => isFleetError(error) && error.code === 'conflict' && /record that acme was told/.test(error.message),
    );
  });

  test('a notification stated at a time before the confirmation does not stop the clock', () => {
    const confirmed = confirmBreach(incident(), 'mailbox read by a third party', at(3));
    const backdated = recordNotification(confirmed, told('acme', 2, 40), at(40));
    assert.equal(notificationClock(backdated, 40).state, 'overdue');
  });

  test('telling the client after the confirmation stops it, late or not', () => {
    const confirmed = confirmBreach(recordNotification(incident(), told('acme', 1), at(1)), 'scope', at(3));
    const onTime = recordNotification(confirmed, told('acme', 3), at(4));
    assert.equal(notificationClock(onTime, 30).state, 'met');
    assert.equal(notificationClock(onTime, 30).stoppedAt, at(3).toISOString());
    const late = recordNotification(confirmed, told('acme', 28), at(28));
    assert.equal(notificationClock(late, 30).state, 'met-late');
    assert.equal(closeIncident(late, closure, at(30)).status, 'closed');
  });
});
