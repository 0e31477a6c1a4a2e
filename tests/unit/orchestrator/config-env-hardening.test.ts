// Orchestrator settings that used to be read as something other than what they say: an empty number as 0
// (a random port, reconciling off), "0x1F" as 31, a cron pattern that only failed once the service ran,
// database and Vault addresses of any scheme.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../../orchestrator/src/config.ts';

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig({ AGENT_FLEET_HOME: '/srv/fleet', ...env });
  } catch (error) {
    assert.match((error as Error).message, /^invalid orchestrator configuration:/);
    return (error as Error).message;
  }
  assert.fail(`accepted: ${JSON.stringify(env)}`);
}

describe('orchestrator settings from the environment', () => {
  test('an empty, blank, hexadecimal or exponent number is refused by name, never read as 0 or guessed', () => {
    for (const [name, value] of [
      ['ORCHESTRATOR_PORT', ''],
      ['RECONCILE_INTERVAL_SECONDS', '  '],
      ['AUDIT_CHECKPOINT_INTERVAL_SECONDS', ''],
      ['EMBEDDED_VAULT_PORT', '0x1F'],
      ['RETENTION_DAYS', '1e2'],
      ['PORTAL_PORT', ''],
      ['FLEET_EGRESS_PROXY_PORT', 'Infinity'],
    ] as const) {
      assert.match(refusal({ [name]: value }), new RegExp(`${name}: must be a decimal number`), `${name}=${JSON.stringify(value)}`);
    }
    const config = loadConfig({ ORCHESTRATOR_PORT: ' 7500 ', AGENT_CPUS: '1.5', RECONCILE_INTERVAL_SECONDS: '0' });
    assert.equal(config.api.port, 7500);
    assert.equal(config.agent.nanoCpus, 1_500_000_000);
    assert.equal(config.reconcileIntervalMs, 0, 'an explicit 0 still turns the loop off');
  });

  test('a rotation schedule that is not a cron pattern is refused at start-up; empty turns rotation off', () => {
    assert.match(refusal({ ROTATION_SCHEDULE: 'monthly' }), /ROTATION_SCHEDULE: must be a cron pattern/);
    assert.match(refusal({ ROTATION_SCHEDULE: '0 3 32 * *' }), /ROTATION_SCHEDULE: must be a cron pattern/);
    assert.equal(loadConfig({ ROTATION_SCHEDULE: '' }).rotationSchedule, '');
    assert.equal(loadConfig({ ROTATION_SCHEDULE: ' 15 4 * * 1 ' }).rotationSchedule, '15 4 * * 1');
  });

  test('the registry must be a PostgreSQL URL and Vault an http(s) address', () => {
    assert.match(refusal({ DATABASE_URL: 'javascript:alert(1)' }), /DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    assert.match(
      refusal({ VAULT_ADDR: 'file:///etc/passwd', VAULT_TOKEN_FILE: '/run/token', FLEET_AGENT_EGRESS: 'open' }),
      /VAULT_ADDR: must be an http\(s\):\/\/ URL/,
    );
    assert.equal(loadConfig({ DATABASE_URL: 'postgres://fleet@db/fleet' }).databaseUrl, 'postgres://fleet@db/fleet');
  });
});
