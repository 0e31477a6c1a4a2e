// `fleet config rollback` without --base started from whatever version was in force when it ran: a guard
// rail confirmed by id then also covered changes made since, which the operator never saw.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { runFleetCliBeforeService as fleet } from '../../helpers/fleet-cli.ts';

describe('fleet config rollback', () => {
  test('without --base it is refused before the service is reached, naming how to find the version in force', async () => {
    const { code, err } = await fleet('config', 'rollback', 'acme', '--to', '3', '--reason', 'undo', '--confirm', 'permissions.send');
    assert.equal(code, EXIT_CODES.invalid_input);
    assert.match(err, /fleet config show acme/);
    assert.match(err, /--base N/);
  });

  test('a --base that is not a whole number is refused', async () => {
    const { code, err } = await fleet('config', 'rollback', 'acme', '--to', '3', '--reason', 'undo', '--base', '0x5');
    assert.equal(code, EXIT_CODES.invalid_input);
    assert.match(err, /--base must be a whole number/);
  });

  test('with --base it gets past its own checks (and stops at the invalid environment)', async () => {
    const { err } = await fleet('config', 'rollback', 'acme', '--to', '3', '--reason', 'undo', '--base', '7');
    assert.match(err, /invalid orchestrator configuration/);
  });
});
