// What on-call reads after each incident command: `fleet incident show` (and every command that prints the
// incident) says which containment never held, how a closed incident got past it, and the command that
// stops each clock still ticking, marked LATE once overdue; `contain` says how to retry what did not hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatContained, formatIncident } from '../../../orchestrator/src/cli/format/incident.ts';
import type {
  IncidentContainmentStep,
  IncidentRecord,
} from '../../../orchestrator/src/ports/incident-store.ts';
import { incidentClocks } from '../../../orchestrator/src/services/incidents/incident-clocks.ts';
import { at, incident, phoneNotification } from './incident-fixture.ts';

const step = (
  clientId: string,
  name: IncidentContainmentStep['step'],
  outcome: IncidentContainmentStep['outcome'],
): IncidentContainmentStep => ({
  clientId,
  step: name,
  at: at(0.5).toISOString(),
  by: 'ops',
  outcome,
  detail: outcome === 'success' ? 'done' : 'the container did not stop',
});

const shown = (record: IncidentRecord, hours: number) =>
  formatIncident({
    incident: record,
    clocks: incidentClocks(record, at(hours), { timeZone: 'UTC' }),
    grants: [],
  });

void test('a fresh incident tells on-call the command that stops each clock', () => {
  const text = shown(incident(), 0.25);
  assert.match(
    text,
    /\n {2}next:\n {4}respond: fleet incident contain INC-1 --kill \| --rotate \| --revoke-oauth for a compromise, or preserve state first: fleet incident evidence INC-1\n/,
  );
  assert.match(text, /assess: fleet incident note INC-1 --assessment --text "scope, severity, why"/);
  assert.match(text, /close \(the report is due\): fleet incident close INC-1 --root-cause/);
});

void test('an overdue clock is marked LATE with its step', () => {
  const text = shown(incident(), 2);
  assert.match(text, /respond \(LATE\): fleet incident contain INC-1/);
  assert.doesNotMatch(text, /assess \(LATE\)/, 'the 4 h assessment is not late at 2 h');
});

void test('containment that never held is listed with the command that retries it, client by client', () => {
  const record = incident({
    clients: ['acme', 'beta'],
    respondedAt: at(0.5).toISOString(),
    containment: [
      step('acme', 'kill', 'success'),
      step('beta', 'rotate', 'failed'),
      step('beta', 'kill', 'failed'),
      step('beta', 'kill', 'failed'),
    ],
  });
  const text = shown(record, 1);
  assert.match(
    text,
    /contain beta again \(rotate, kill never held\): fleet incident contain INC-1 --rotate --kill --client beta/,
  );
  assert.doesNotMatch(text, /contain acme again/);
  const contained = formatContained({
    incident: record,
    clocks: [],
    grants: [],
    steps: record.containment.slice(1),
  });
  assert.match(
    contained,
    /INC-1 is not contained:\n {2}contain beta again \(rotate, kill never held\): fleet incident contain INC-1 --rotate --kill --client beta$/,
  );
});

void test('contain names a client no step was taken for', () => {
  const record = incident({ clients: ['acme', 'beta'], containment: [step('acme', 'kill', 'success')] });
  const text = formatContained({ incident: record, clocks: [], grants: [], steps: record.containment });
  assert.match(
    text,
    /no step was taken for beta: fleet incident contain INC-1 --kill \| --rotate \| --revoke-oauth --client beta/,
  );
});

void test('a confirmed breach names each client not yet told, with the notify command', () => {
  const record = incident({
    clients: ['acme', 'beta'],
    respondedAt: at(1).toISOString(),
    assessedAt: at(1).toISOString(),
    confirmedAt: at(1).toISOString(),
    confirmedScope: 'mail of two users read',
    notifications: [phoneNotification('acme', 'Kim', 2)],
  });
  const text = shown(record, 26);
  assert.match(text, /breach confirmed .*: mail of two users read/);
  assert.match(
    text,
    /tell beta of the breach \(LATE\), then: fleet incident notify INC-1 --client beta --channel <how> --recipient <who>/,
  );
  assert.doesNotMatch(text, /tell acme/);
});

void test('a closed incident shows its containment override and the reports still owed; nothing else', () => {
  const closedAt = at(3).toISOString();
  const record = incident({
    clients: ['acme', 'beta'],
    status: 'closed',
    closedAt,
    rootCause: 'a leaked token',
    lessons: 'rotate monthly',
    containment: [step('beta', 'kill', 'failed')],
    containmentOverride: { reason: 'the host was wiped', by: 'ops', at: closedAt, unheld: ['beta kill'] },
  });
  const text = shown(record, 4);
  assert.match(
    text,
    /closed although containment never held \(beta kill\); override by ops: the host was wiped/,
  );
  assert.match(
    text,
    /next:\n {4}deliver the final report: fleet incident report INC-1 --client acme --out INC-1-acme\.html\n {4}deliver the final report: fleet incident report INC-1 --client beta --out INC-1-beta\.html$/,
  );
  assert.doesNotMatch(text, /contain beta again|respond( \(LATE\))?:|assess( \(LATE\))?:/);
});
