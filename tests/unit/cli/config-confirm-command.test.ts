// `fleet config confirm <client> <rail> [--reason …]`: the rail is checked before the service is reached,
// the body the API takes is bounded and strict, and the output says whether anything was recorded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { confirmedRailOf } from '../../../orchestrator/src/cli/commands/config.ts';
import { formatGuardRailConfirmed } from '../../../orchestrator/src/cli/format/config.ts';
import { SettingsConfirmClient } from '../../../orchestrator/src/cli/settings-confirm-client.ts';
import { guardRailConfirmBodySchema } from '../../../orchestrator/src/http/request-schemas.ts';

const outcome = {
  clientId: parseClientId('acme'),
  rail: 'permissions.mail.send',
  field: 'permissions.mail.send',
  risk: 'The assistant may send email from your mailbox',
  version: 4,
  confirmation: { by: 'ops-dave', at: '2026-03-10T12:00:00.000Z' },
};

describe('fleet config confirm', () => {
  test('a malformed rail id is refused by the CLI, naming the argument', () => {
    assert.equal(confirmedRailOf('rateLimits.perHour'), 'rateLimits.perHour');
    for (const rail of ['rate limits', 'x'.repeat(101), '../etc']) {
      assert.throws(() => confirmedRailOf(rail), (error: unknown) => error instanceof FleetError && error.code === 'invalid_input' && error.message.startsWith('<rail>: '));
    }
  });

  test('the output says what was recorded, or that nothing was', () => {
    assert.match(formatGuardRailConfirmed({ ...outcome, outcome: 'confirmed' }), /acme: permissions\.mail\.send confirmed by ops-dave at .* for settings version 4/);
    assert.match(formatGuardRailConfirmed({ ...outcome, outcome: 'already-confirmed' }), /already confirmed \(by ops-dave at .*\); nothing recorded/);
  });

  test('the client posts the rail, the reason and the actor to the confirmations route', async () => {
    const calls: unknown[][] = [];
    const transport = { request: async (...args: unknown[]) => (calls.push(args), { ...outcome, outcome: 'confirmed' }) } as never;
    await new SettingsConfirmClient(transport, 'ops-dave').confirm(parseClientId('acme'), { rail: 'permissions.mail.send', reason: 'in writing' });
    assert.deepEqual(calls, [['POST', '/v1/clients/acme/settings/confirmations', { rail: 'permissions.mail.send', reason: 'in writing', actor: 'ops-dave' }]]);
  });

  test('the API body is strict: a rail, an optional safe reason, the actor', () => {
    assert.equal(guardRailConfirmBodySchema.safeParse({ rail: 'permissions.mail.send' }).success, true);
    assert.equal(guardRailConfirmBodySchema.safeParse({ rail: 'permissions.mail.send', confirm: ['x'] }).success, false);
    assert.equal(guardRailConfirmBodySchema.safeParse({ rail: '' }).success, false);
    assert.equal(guardRailConfirmBodySchema.safeParse({ rail: 'bulkThreshold', reason: 'ok\u0000' }).success, false);
  });
});
