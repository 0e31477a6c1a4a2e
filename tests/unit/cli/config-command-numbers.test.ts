// `fleet config show --version 0`, `config rollback --to 0` and `config history --limit 0` (or 5000) used to
// pass the CLI, start the service and come back as the API's refusal of its own field (or, for the limit,
// as silently fewer versions than asked): each is now refused by its option's name before the service.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { runFleetCliBeforeService as fleet } from '../../helpers/fleet-cli.ts';

describe('fleet config: version numbers and limits are checked before the service', () => {
  test('a version below 1, a limit outside 1-1000 or a negative base is refused by its option', async () => {
    for (const [args, message] of [
      [['config', 'show', 'acme', '--version', '0'], /^fleet: --version must be a whole number from 1 \(got "0"\)$/m],
      [['config', 'rollback', 'acme', '--to', '0', '--base', '4', '--reason', 'undo'], /^fleet: --to must be a whole number from 1 \(got "0"\)$/m],
      [['config', 'history', 'acme', '--limit', '0'], /^fleet: --limit must be a whole number from 1 to 1000 \(got "0"\)$/m],
      [['config', 'history', 'acme', '--limit', '5000'], /^fleet: --limit must be a whole number from 1 to 1000 \(got "5000"\)$/m],
      [['config', 'history', 'acme', '--limit', '1e3'], /^fleet: --limit must be a whole number from 1 to 1000 \(got "1e3"\)$/m],
      [['config', 'rollback', 'acme', '--to', '2', '--base', '-1', '--reason', 'undo'], /^fleet: --base must be a whole number from 0 \(got "-1"\)$/m],
    ] as const) {
      const { code, err } = await fleet(...args);
      assert.equal(code, EXIT_CODES.invalid_input, `${args.join(' ')}: ${err}`);
      assert.match(err, message, args.join(' '));
    }
  });

  test('the bounds themselves pass the CLI (and then need the service)', async () => {
    for (const args of [
      ['config', 'show', 'acme', '--version', '1'],
      ['config', 'rollback', 'acme', '--to', '1', '--base', '0', '--reason', 'undo'],
      ['config', 'history', 'acme', '--limit', '1'],
      ['config', 'history', 'acme', '--limit', '1000'],
    ]) {
      const { code, err } = await fleet(...args);
      assert.equal(code, EXIT_CODES.invalid_input, args.join(' '));
      assert.match(err, /invalid orchestrator configuration/, args.join(' '));
    }
  });
});
