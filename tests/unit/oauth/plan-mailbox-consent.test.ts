import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import {
  mailboxOfConsentPlan,
  otherMailboxesOfConsentPlan,
  planMailboxConsent,
} from '../../../orchestrator/src/services/connect-mailbox.ts';

const CONFIG =
  'client: acme\nprovider: gmail\nmailbox: Agent@Acme.example\npermissions:\n  mail.read: true\n  crm.read: true\n';

const configOf = (client: string, mailbox: string) =>
  `client: ${client}\nprovider: gmail\nmailbox: ${mailbox}\npermissions:\n  mail.read: true\n`;

function registryWith(status: ClientStatus, others: readonly { id: string; status: ClientStatus; configYaml: string }[] = []): { registry: Registry } {
  const acme = { id: 'acme', provider: 'gmail', status, configYaml: CONFIG };
  return {
    registry: {
      getClient: async () => acme,
      listClients: async () => [acme, ...others],
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

  test("the plan names the other open clients' mailboxes (a refused grant of one is not revoked), never its own", async () => {
    const plan = await planMailboxConsent(
      registryWith('active', [
        { id: 'beta', status: 'active', configYaml: configOf('beta', 'Desk@Beta.example') },
        { id: 'gamma', status: 'killed', configYaml: configOf('gamma', 'desk@gamma.example') },
        { id: 'old', status: 'deprovisioned', configYaml: configOf('old', 'desk@old.example') },
        { id: 'odd', status: 'active', configYaml: 'not: [valid' },
      ]),
      'acme',
      'gmail',
    );
    assert.deepEqual(otherMailboxesOfConsentPlan(JSON.parse(JSON.stringify(plan))), ['desk@beta.example', 'desk@gamma.example']);
    for (const odd of [null, {}, { otherClientsMailboxes: 'desk@beta.example' }, { otherClientsMailboxes: [42, 'not an address'] }]) {
      assert.deepEqual(otherMailboxesOfConsentPlan(odd), []);
    }
  });

  test('a plan without a usable mailbox reads as none', () => {
    for (const plan of [null, 'x', {}, { mailbox: 42 }, { mailbox: 'not an address' }, { mailbox: null }]) {
      assert.equal(mailboxOfConsentPlan(plan), null);
    }
  });
});
