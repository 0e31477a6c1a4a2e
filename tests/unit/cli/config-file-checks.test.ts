// `fleet provision --config <file>` and `fleet config set <client> <file>` used to send a document to the
// service (starting it first) without looking at it: the refusal named "config of acme" or "the settings
// document", never the file the operator gave. The document is now checked where the file is read, with the
// parser the service and the agent use, and a refusal names the file, the field and what is expected.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { readClientConfigFile } from '../../../orchestrator/src/cli/options.ts';
import { runFleetCliBeforeService as fleet } from '../../helpers/fleet-cli.ts';

describe('a client config file is checked where it is read', () => {
  let dir: string;
  const file = async (name: string, text: string): Promise<string> => {
    const at = path.join(dir, name);
    await writeFile(at, text);
    return at;
  };
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-config-file-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('provision --config and config set refuse a bad document naming the file and the field, before the service', async () => {
    const cases = [
      [await file('zone.yaml', 'client: acme\ntimezone: Mars/Olympus\n'), /^fleet: config file .*zone\.yaml is invalid:\n {2}timezone: must be an IANA time zone/],
      [await file('typo.yaml', 'client: acme\ntimezon: UTC\n'), /^fleet: config file .*typo\.yaml is invalid:\n {2}\(root\): Unrecognized key: "timezon"/],
      [await file('twice.yaml', 'client: acme\nclient: beta\n'), /^fleet: config file .*twice\.yaml: not valid YAML: map keys must be unique: "client" appears twice \(lines 1 and 2\)/],
      [await file('empty.yaml', ''), /^fleet: config file .*empty\.yaml is empty: /],
    ] as const;
    for (const [at, message] of cases) {
      for (const args of [['provision', 'acme', '--config', at], ['config', 'set', 'acme', at, '--reason', 'edit', '--base', '3']]) {
        const { code, err } = await fleet(...args);
        assert.equal(code, EXIT_CODES.invalid_input, `${args.join(' ')}: ${err}`);
        assert.match(err, message, args.join(' '));
      }
    }
  });

  test('a valid document passes the CLI as it was read (and then needs the service)', async () => {
    const text = '# settings-version: 3\r\nclient: acme\r\ntimezone: Europe/London\r\n';
    const at = await file('good.yaml', text);
    assert.equal(await readClientConfigFile(at), text);
    for (const args of [['provision', 'acme', '--config', at], ['config', 'set', 'acme', at, '--reason', 'edit']]) {
      const { code, err } = await fleet(...args);
      assert.equal(code, EXIT_CODES.invalid_input, args.join(' '));
      assert.match(err, /invalid orchestrator configuration/, args.join(' '));
    }
  });

  test('a document on standard input is named as such', async () => {
    await assert.rejects(readClientConfigFile('-', Readable.from([Buffer.from('client: acme\nlimits: {}\n')])), (error: unknown) => {
      assert.ok(isFleetError(error) && error.code === 'invalid_input');
      assert.match(error.message, /^the config on standard input is invalid:\n {2}\(root\): Unrecognized key: "limits"/);
      return true;
    });
  });
});
