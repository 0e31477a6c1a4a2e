// Orchestrator settings that were accepted and then meant something else: a misspelt variable left its
// setting at the default without a word, a cron pattern that never fires (or fires every second) passed as
// a rotation schedule, a sub-second interval ran a loop without pause, a token file without VAULT_ADDR
// quietly chose the embedded store, and listener addresses and files that cannot work failed only later.
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

describe('orchestrator settings probed with bad values', () => {
  test('a misspelt or wrongly cased setting is refused naming the setting meant, not ignored for the default', () => {
    for (const [typo, meant] of [
      ['AGENT_OCI_RUNTIM', 'AGENT_OCI_RUNTIME'],
      ['PORTAL_LOGIN_MAX_FAILURE', 'PORTAL_LOGIN_MAX_FAILURES'],
      ['PORTAL_SESION_IDLE_MINUTES', 'PORTAL_SESSION_IDLE_MINUTES'],
      ['FLEET_HOST_FIERWALL', 'FLEET_HOST_FIREWALL'],
      ['DATABASE_URI', 'DATABASE_URL'],
      ['VAULT_ADR', 'VAULT_ADDR'],
      ['fleet_agent_egress', 'FLEET_AGENT_EGRESS'],
    ] as const) {
      const message = refusal({ [typo]: 'x' });
      assert.match(message, new RegExp(`\\n  ${typo}: is not a setting: did you mean ${meant}, which is unset`), typo);
    }
  });

  test('other tools\' variables and unrelated names beside the settings are left alone', () => {
    const config = loadConfig({
      AGENT_FLEET_HOME: '/srv/fleet',
      KUBE_CONFIG: '/x',
      LOGLEVEL: 'debug',
      VAULT_TOKEN: 'hvs.x',
      VAULT_CAPATH: '/etc/ssl',
      DOCKER_HOST: 'unix:///run/docker.sock',
      AGENT_DATA_DIR: '/data',
      AGENT_FLEET_IMAGE_TAG: 'dev',
      ORCHESTRATOR_ADDRESS: '127.0.0.1:7400',
      FLEET_K8S_REAL_CLUSTER: '1',
      PATH: '/usr/bin',
      HOME: '/root',
    });
    assert.equal(config.homeDir, '/srv/fleet');
  });

  test('a rotation schedule that never fires, rotates less than monthly or more than hourly is refused', () => {
    assert.match(refusal({ ROTATION_SCHEDULE: '0 3 31 2 *' }), /ROTATION_SCHEDULE: must rotate at least monthly .* it never fires/);
    assert.match(refusal({ ROTATION_SCHEDULE: '0 3 * 1 *' }), /ROTATION_SCHEDULE: must rotate at least monthly .* 334 days pass without a rotation/);
    assert.match(refusal({ ROTATION_SCHEDULE: '0 3 1 1 *' }), /ROTATION_SCHEDULE: must rotate at least monthly/);
    assert.match(refusal({ ROTATION_SCHEDULE: '0 3 31 * *' }), /ROTATION_SCHEDULE: must rotate at least monthly/);
    assert.match(refusal({ ROTATION_SCHEDULE: '* * * * * *' }), /ROTATION_SCHEDULE: must rotate at most hourly/);
    assert.match(refusal({ ROTATION_SCHEDULE: '*/5 * * * *' }), /ROTATION_SCHEDULE: must rotate at most hourly/);
    for (const fine of ['0 3 1 * *', '@monthly', '0 3 28 * *', '0 3 * * 1', '0 * * * *', '']) {
      assert.equal(loadConfig({ ROTATION_SCHEDULE: fine }).rotationSchedule, fine, fine);
    }
  });

  test('a loop interval below one second is refused; 0 still turns the loop off', () => {
    assert.match(refusal({ RECONCILE_INTERVAL_SECONDS: '0.001' }), /RECONCILE_INTERVAL_SECONDS: must be 0 \(off\) or at least 1 second/);
    assert.match(refusal({ AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0.5' }), /AUDIT_CHECKPOINT_INTERVAL_SECONDS: must be 0 \(off\) or at least 1 second/);
    const config = loadConfig({ RECONCILE_INTERVAL_SECONDS: '0', AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1.5' });
    assert.equal(config.reconcileIntervalMs, 0);
    assert.equal(config.auditCheckpointIntervalMs, 1500);
  });

  test('a Vault token file without VAULT_ADDR is refused instead of quietly using the embedded store', () => {
    assert.match(refusal({ VAULT_TOKEN_FILE: '/run/token' }), /VAULT_ADDR: is required with VAULT_TOKEN_FILE/);
  });

  test('listener addresses must be IP addresses or host names; files must be absolute paths', () => {
    for (const host of [' ', 'http://0.0.0.0', '[::1]', 'not a host!', '1.2.3', '256.1.1.1']) {
      assert.match(refusal({ ORCHESTRATOR_HOST: host }), /ORCHESTRATOR_HOST: must be an IP address/, JSON.stringify(host));
      assert.match(refusal({ PORTAL_HOST: host }), /PORTAL_HOST: must be an IP address/, JSON.stringify(host));
    }
    for (const host of ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost', 'portal.internal']) {
      assert.equal(loadConfig({ ORCHESTRATOR_HOST: host, PORTAL_HOST: host }).portal.host, host);
    }
    assert.match(refusal({ DOCKER_SOCKET: 'tcp://10.0.0.1:2375' }), /DOCKER_SOCKET: must be an absolute path/);
    const external = { VAULT_ADDR: 'https://vault.example', FLEET_AGENT_EGRESS: 'open' };
    assert.match(refusal({ ...external, VAULT_TOKEN_FILE: 'token' }), /VAULT_TOKEN_FILE: must be an absolute path/);
    assert.match(refusal({ ...external, VAULT_TOKEN_FILE: '/run/token', VAULT_CACERT: 'ca.pem' }), /VAULT_CACERT: must be an absolute path/);
  });
});
