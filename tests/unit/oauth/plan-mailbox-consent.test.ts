import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import {
  mailboxOfConsentPlan,
  planMailboxConsent,
} from '../../../orchestrator/src/services/connect-mailbox.ts';

const CONFIG =
  'client: acme\nprovider: gmail\nmailbox: Agent@Acme.example\npermissions:\n  mail.read: true\n  crm.read: true\n';

function registryWith(status: ClientStatus): { registry: Registry } {
  return {
    registry: {
      getClient: async () => ({ id: 'acme', provider: 'gmail', status, configYaml: CONFIG }),
    } as never,
  };
}

describe('planning a mailbox consent', () => {
  test('the plan names the configured mailbox, which the consenting account must be', async () => {
    const plan = await planMailboxConsent(registryWith('active'), 'acme', 'gmail');
    assert.equal(plan.mailbox, 'agent@acme.example');
    assert.equal(mailboxOfConsentPlan(JSON.parse(JSON.stringify(plan))), 'agent@acme.example');
    assert.equal((await planMailboxConsent(registryWith('active'), 'acme', 'bullhorn')).mailbox, null);
  });

  test('a killed client may be connected again (before its revival)', async () => {
    assert.deepEqual((await planMailboxConsent(registryWith('killed'), 'acme', 'gmail')).scopes, [
      'https://www.googleapis.com/auth/gmail.readonly',
    ]);
  });

  for (const status of ['deprovisioning', 'deprovisioned'] as const) {
    test(`a ${status} client gets no new grant`, async () => {
      for (const provider of ['gmail', 'bullhorn'] as const) {
        await assert.rejects(planMailboxConsent(registryWith(status), 'acme', provider), (error: unknown) => {
          assert.ok(isFleetError(error));
          assert.equal(error.code, 'conflict');
          assert.match(error.message, /closed client gets no new/);
          return true;
        });
      }
    });
  }

  test('a plan without a usable mailbox reads as none', () => {
    for (const plan of [null, 'x', {}, { mailbox: 42 }, { mailbox: 'not an address' }, { mailbox: null }]) {
      assert.equal(mailboxOfConsentPlan(plan), null);
    }
  });
});
