import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { IncidentNotification, IncidentRecord } from '../../../orchestrator/src/ports/incident-store.ts';
import { forgetIncidentRecipients } from '../../../orchestrator/src/services/erasure/incident-recipients.ts';
import { ERASED_RECIPIENT } from '../../../orchestrator/src/services/incidents/incident-transitions.ts';
import { incident, OPENED } from './incident-fixture.ts';

const told = (clientId: string, recipient: string): IncidentNotification => ({
  clientId,
  at: OPENED.toISOString(),
  by: 'jake',
  channel: 'phone',
  recipient,
  recordedAt: OPENED.toISOString(),
  recordedBy: 'jake',
});

void test("an erased client's people leave its incidents' notifications; when, how and by whom stay, other clients' stay", async () => {
  const records = new Map<string, IncidentRecord>([
    ['INC-1', incident({ id: 'INC-1', clients: ['acme', 'beta'], notifications: [told('acme', 'ceo@acme.example'), told('beta', 'cto@beta.example'), told('acme', '')] })],
    ['INC-2', incident({ id: 'INC-2', clients: ['beta'], notifications: [told('beta', 'cfo@beta.example')] })],
  ]);
  const updated: string[] = [];
  const store = {
    list: () => Promise.resolve([...records.values()]),
    update: (id: string, change: (current: IncidentRecord) => IncidentRecord) => {
      updated.push(id);
      const next = change(records.get(id)!);
      records.set(id, next);
      return Promise.resolve(next);
    },
  };
  assert.equal(await forgetIncidentRecipients(store, parseClientId('acme')), 1);
  assert.deepEqual(updated, ['INC-1'], 'only incidents that named someone of the client are rewritten');
  const first = records.get('INC-1')!;
  assert.deepEqual(first.notifications.map((n) => [n.clientId, n.recipient, n.by, n.channel, n.at]), [
    ['acme', ERASED_RECIPIENT, 'jake', 'phone', OPENED.toISOString()],
    ['beta', 'cto@beta.example', 'jake', 'phone', OPENED.toISOString()],
    ['acme', '', 'jake', 'phone', OPENED.toISOString()],
  ]);
  assert.equal(first.updatedAt, incident().updatedAt, 'not an incident event');
  assert.equal(records.get('INC-2')!.notifications[0]?.recipient, 'cfo@beta.example');
  assert.equal(await forgetIncidentRecipients(store, parseClientId('acme')), 0, 'idempotent');
  assert.deepEqual(updated, ['INC-1']);
});
