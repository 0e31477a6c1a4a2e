// CLI input that used to be read as something else, or crash: an empty --config path (provisioned on the
// defaults), a config file that never ends or is not UTF-8, an unreadable file for `config set`, a bad
// number checked only after the service was reached, a damaged session file.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { MAX_CONFIG_BYTES } from '@agent-fleet/kernel/client-config-document';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { readConfigFile } from '../../../orchestrator/src/cli/options.ts';
import { readCliSession } from '../../../orchestrator/src/cli/session-file.ts';
import { runFleetCliWithEnv, unstartableEnv, type FleetCliRun } from '../../helpers/fleet-cli.ts';
import { invalidInputMessageOf as refusalOf } from '../../helpers/refused.ts';

/** `fleet …` in process with the fleet home `home`, unable to reach or start a service. */
const fleet = (home: string, ...args: string[]): Promise<FleetCliRun> => runFleetCliWithEnv(unstartableEnv(home), ...args);

describe('fleet CLI input', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'fleet-cli-input-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  test('provision --config "" is refused, not provisioned on the default config', async () => {
    const { code, err } = await fleet(home, 'provision', 'acme', '--config', '');
    assert.equal(code, EXIT_CODES.invalid_input);
    assert.match(err, /the config file path is empty/);
  });

  test('a config file over 1 MiB, endless, or not UTF-8 is refused by name before anything is sent', async () => {
    const big = path.join(home, 'big.yaml');
    await writeFile(big, `client: acme\nstyleNotes: "${'x'.repeat(MAX_CONFIG_BYTES)}"\n`);
    assert.match(await refusalOf(readConfigFile(big)), /config file .*big\.yaml is larger than 1048576 bytes/);
    assert.match(await refusalOf(readConfigFile('/dev/zero')), /\/dev\/zero is larger than 1048576 bytes/);
    const latin1 = path.join(home, 'latin1.yaml');
    await writeFile(latin1, Buffer.from('client: acme\nstyleNotes: caf\xe9\n', 'latin1'));
    assert.match(await refusalOf(readConfigFile(latin1)), /latin1\.yaml is not UTF-8 text/);
    assert.match(await refusalOf(readConfigFile(path.join(home, 'missing.yaml'))), /cannot read config file .*missing\.yaml: ENOENT/);
    assert.match(await refusalOf(readConfigFile(home)), /cannot read config file/);
    const piped = Readable.from([Buffer.from('client: acme\n')]);
    assert.equal(await readConfigFile('-', piped), 'client: acme\n');
  });

  test('config set with a file it cannot read is a usage error naming the file', async () => {
    const { code, err } = await fleet(home, 'config', 'set', 'acme', path.join(home, 'nope.yaml'), '--reason', 'tune');
    assert.equal(code, EXIT_CODES.invalid_input);
    assert.match(err, /cannot read config file .*nope\.yaml/);
  });

  test('bad numbers are refused before the service is reached', async () => {
    for (const args of [
      ['config', 'history', 'acme', '--limit', '-1'],
      ['config', 'show', 'acme', '--version', '0x1'],
      ['config', 'rollback', 'acme', '--to', '1e3', '--reason', 'undo'],
    ]) {
      const { code, err } = await fleet(home, ...args);
      assert.equal(code, EXIT_CODES.invalid_input, args.join(' '));
      assert.match(err, /must be a whole number/, args.join(' '));
    }
  });

  test('a damaged session file is refused with what to do, not a crash', async () => {
    for (const text of ['{"member": "dana"', 'null', '[]', '"token"']) {
      await writeFile(path.join(home, 'session.json'), text, { mode: 0o600 });
      assert.match(await refusalOf(readCliSession(home)), /is not a session file: delete it and sign in again/, text);
    }
    await rm(path.join(home, 'session.json'));
  });
});
