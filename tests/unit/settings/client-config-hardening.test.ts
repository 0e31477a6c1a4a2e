// Client config YAML that used to be read as something other than what it says: a second document dropped,
// nested typos ignored, a map of many keys taking minutes, time zones no calendar provider takes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { isTimeZone } from '@agent-fleet/kernel/time-zone';

/** The message of the invalid_input FleetError `yaml` is refused with. */
function refusal(yaml: string): string {
  try {
    parseClientConfigYaml(yaml, 'config.yaml');
  } catch (error) {
    assert.ok(isFleetError(error) && error.code === 'invalid_input', String(error));
    return error.message;
  }
  assert.fail(`accepted:\n${yaml}`);
}

describe('client config YAML is one document, read in linear time', () => {
  test('a second document after "---" is refused, not silently dropped', () => {
    assert.match(refusal('client: acme\ndryRun: false\n---\nclient: acme\ndryRun: true\n'), /config\.yaml: not valid YAML: .*2 YAML documents/);
    assert.match(refusal('client: acme\n---\n'), /2 YAML documents/);
    assert.equal(parseClientConfigYaml('---\nclient: acme\n...\n').client, 'acme', 'one document with its markers is fine');
  });

  test('a key repeated as another type of scalar ("1" and 1) is a repeated key too', () => {
    assert.match(refusal('client: acme\npermissions: { 1: true, "1": false }\n'), /map keys must be unique: "1" appears twice \(lines 2 and 2\)/);
    assert.match(refusal('client: acme\nrateLimits:\n  perHour: 5\n  perHour: 50\n'), /map keys must be unique: "perHour" appears twice \(lines 3 and 4\)/);
  });

  test('a map of many distinct keys is refused in about a second, not minutes', () => {
    // Under 1 MiB; comparing every key with every other took about 30 s here, one pass takes under 1 s.
    const keys = Array.from({ length: 60_000 }, (_, index) => `k${index}: true`).join(', ');
    const started = performance.now();
    assert.match(refusal(`client: acme\npermissions: { ${keys} }\n`), /permissions: Unrecognized keys/);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 10_000, `took ${Math.round(elapsed)} ms`);
  });
});

describe('client config fields', () => {
  test('an unknown key inside a section is refused by its path, not ignored in favour of the default', () => {
    const cases: Array<[string, RegExp]> = [
      ['rateLimits: { perHuor: 5 }', /rateLimits: Unrecognized key: "perHuor"/],
      ['workingHours: { strat: "09:00" }', /workingHours: Unrecognized key: "strat"/],
      ['onboarding: { dayz: 3 }', /onboarding: Unrecognized key: "dayz"/],
      ['dailySummary: { enable: false }', /dailySummary: Unrecognized key: "enable"/],
      ['rateLimits: { __proto__: { perHour: 5 } }', /rateLimits: Unrecognized key: "__proto__"/],
    ];
    for (const [line, reason] of cases) assert.match(refusal(`client: acme\n${line}\n`), reason, line);
    const parsed = parseClientConfig({ client: 'acme', rateLimits: { perHour: 5, perDay: 50 }, workingHours: { start: '09:00' } });
    assert.ok(parsed.ok && parsed.config.rateLimits.perHour === 5 && parsed.config.workingHours.end === '18:00', 'known keys still take defaults');
  });

  test('a time zone must be an IANA name as spelt in the tz database, not an offset or another case', () => {
    for (const zone of ['Europe/London', 'UTC', 'Etc/UTC', 'US/Eastern', 'Asia/Kolkata', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires']) {
      assert.ok(isTimeZone(zone), zone);
    }
    for (const zone of ['+05:00', '-0800', 'europe/london', 'utc', 'ASIA/CALCUTTA', 'Mars/Olympus', ' UTC', '']) {
      assert.equal(isTimeZone(zone), false, zone);
    }
    assert.match(refusal('client: acme\ntimezone: "+05:00"\n'), /timezone: must be an IANA time zone/);
  });
});
