// Orchestrator settings that used to be read as something other than what they say: an empty number as 0
// (a random port, reconciling off), "0x1F" as 31, a cron pattern that only failed once the service ran,
// database and Vault addresses of any scheme, a subnet pool over public or loopback space, a relative
// home directory, credentials in URLs, two listeners on one port.
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

  test('the subnet pool must lie inside private address space; the defaults, the demo and test pools still do', () => {
    for (const pool of ['0.0.0.0/0', '127.0.0.0/16', '8.8.8.0/24', '172.32.0.0/16', '192.169.0.0/16', '10.0.0.0/7', '172.0.0.0/8', '100.128.0.0/16', '169.254.0.0/16', '224.0.0.0/4']) {
      const message = refusal({ FLEET_SUBNET_POOL: pool });
      assert.match(message, /FLEET_SUBNET_POOL: must lie inside private address space \(10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16, or 100\.64\.0\.0\/10/, pool);
    }
    for (const pool of ['10.213.0.0/16', '10.215.0.0/28', '10.236.150.0/28', '10.0.0.0/8', '172.16.0.0/12', '172.31.255.240/28', '192.168.0.0/16', '192.168.10.0/24', '100.64.0.0/10', '100.127.255.0/24']) {
      assert.equal(loadConfig({ AGENT_FLEET_HOME: '/srv/fleet', FLEET_SUBNET_POOL: pool, FLEET_SUBNET_PREFIX: '28' }).subnetPool, pool);
    }
    assert.equal(loadConfig({ AGENT_FLEET_HOME: '/srv/fleet' }).subnetPool, '10.213.0.0/16');
  });

  test('a subnet pool that is not a CIDR is one issue naming the variable, listed with the others', () => {
    const message = refusal({ FLEET_SUBNET_POOL: '10.213.0.0', ORCHESTRATOR_PORT: 'x' });
    assert.match(message, /FLEET_SUBNET_POOL: must be an IPv4 CIDR such as 10\.213\.0\.0\/16/);
    assert.match(message, /ORCHESTRATOR_PORT: must be a decimal number/);
  });

  test('a relative or "~" home directory is refused: the service and the CLI would each resolve it elsewhere', () => {
    for (const home of ['fleet', './fleet', '../fleet', '~/.agent-fleet', '.']) {
      assert.match(refusal({ AGENT_FLEET_HOME: home }), /AGENT_FLEET_HOME: must be an absolute path/, home);
    }
    assert.equal(loadConfig({ AGENT_FLEET_HOME: '/srv/fleet' }).homeDir, '/srv/fleet');
    assert.ok(loadConfig({}).homeDir.endsWith('/.agent-fleet'), 'the default stays ~/.agent-fleet, expanded');
  });

  test('a URL with user:pass@ is refused by name: secrets belong in the secret store', () => {
    const cases: Array<[string, NodeJS.ProcessEnv]> = [
      ['PORTAL_PUBLIC_URL', { PORTAL_PUBLIC_URL: 'https://admin:s3cret@portal.example' }],
      ['FLEET_PROMETHEUS_URL', { FLEET_PROMETHEUS_URL: 'http://prom:s3cret@127.0.0.1:9090' }],
      ['VAULT_ADDR', { VAULT_ADDR: 'https://root:s3cret@vault.example', VAULT_TOKEN_FILE: '/run/token', FLEET_AGENT_EGRESS: 'open' }],
      ['VAULT_AGENT_ADDR', { VAULT_ADDR: 'https://vault.example', VAULT_AGENT_ADDR: 'https://s3cret@vault.example', VAULT_TOKEN_FILE: '/run/token', FLEET_AGENT_EGRESS: 'open' }],
    ];
    for (const [name, env] of cases) {
      const message = refusal(env);
      assert.match(message, new RegExp(`${name}: must not contain a user name or password`), name);
      assert.doesNotMatch(message, /s3cret/, 'the refusal does not repeat the secret');
    }
    const config = loadConfig({ PORTAL_PUBLIC_URL: 'https://portal.example', FLEET_PROMETHEUS_URL: 'http://127.0.0.1:9090' });
    assert.equal(config.portal.publicUrl, 'https://portal.example');
    assert.equal(config.doctor.prometheusUrl, 'http://127.0.0.1:9090');
  });

  test('the API, the portal and the embedded store each need a port of their own; 0 (any free port) may repeat', () => {
    assert.match(refusal({ ORCHESTRATOR_PORT: '7401' }), /EMBEDDED_VAULT_PORT: must differ from ORCHESTRATOR_PORT \(both are 7401\): each listener/);
    assert.match(refusal({ PORTAL_PORT: '7400' }), /PORTAL_PORT: must differ from ORCHESTRATOR_PORT \(both are 7400\)/);
    assert.match(refusal({ PORTAL_PORT: '8443', EMBEDDED_VAULT_PORT: '8443' }), /EMBEDDED_VAULT_PORT: must differ from PORTAL_PORT \(both are 8443\)/);
    assert.equal(loadConfig({ ORCHESTRATOR_PORT: '0', PORTAL_PORT: '0', EMBEDDED_VAULT_PORT: '0' }).api.port, 0);
    const external = { VAULT_ADDR: 'https://vault.example', VAULT_TOKEN_FILE: '/run/token', FLEET_AGENT_EGRESS: 'open' };
    assert.equal(loadConfig({ ...external, ORCHESTRATOR_PORT: '7401' }).api.port, 7401, 'no embedded store listens with an external Vault');
  });
});

// Orchestrator settings that were accepted and then meant something else: a misspelt variable left its
// setting at the default without a word, a cron pattern that never fires (or fires every second) passed as
// a rotation schedule, a sub-second interval ran a loop without pause, a token file without VAULT_ADDR
// quietly chose the embedded store, and listener addresses and files that cannot work failed only later.
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
