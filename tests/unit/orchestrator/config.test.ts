import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../orchestrator/src/config.ts';

const MIB = 1024 * 1024;

void test('an empty environment gives the documented defaults, frozen', () => {
  const config = loadConfig({});
  const home = path.join(os.homedir(), '.agent-fleet');
  assert.equal(config.homeDir, home);
  assert.equal(config.databaseUrl, undefined, 'embedded PGlite by default');
  assert.deepEqual(config.api, { host: '127.0.0.1', port: 7400, adminTokenSha256: undefined, socketPath: path.join(home, 'orchestrator.sock'), cliAnswerTimeoutMs: 600_000, cliIdleTimeoutMs: 60_000 });
  assert.deepEqual(
    [loadConfig({ FLEET_CLI_ANSWER_TIMEOUT_SECONDS: '30', FLEET_CLI_IDLE_TIMEOUT_SECONDS: '5' }).api.cliAnswerTimeoutMs, loadConfig({ FLEET_CLI_IDLE_TIMEOUT_SECONDS: '5' }).api.cliIdleTimeoutMs],
    [30_000, 5_000],
  );
  assert.throws(() => loadConfig({ FLEET_CLI_IDLE_TIMEOUT_SECONDS: '0' }), /FLEET_CLI_IDLE_TIMEOUT_SECONDS/);
  assert.equal(config.dockerSocket, '/var/run/docker.sock');
  assert.equal(config.targetsFile, path.join(home, 'targets', 'agents.json'));
  assert.equal(config.subnetPool, '10.213.0.0/16');
  assert.equal(config.subnetPrefix, 28);
  assert.deepEqual(config.agent, {
    image: `agent-fleet/agent:${config.version}`,
    memoryBytes: 128 * MIB,
    nanoCpus: 500_000_000,
    pids: 128,
    tmpfsBytes: 16 * MIB,
    ociRuntime: undefined,
    healthTimeoutMs: 30_000,
    user: '10001:10001',
    portalUrl: 'https://localhost:7443',
  });
  assert.equal(config.reconcileIntervalMs, 15_000);
  assert.equal(config.logLevel, 'info');
  assert.ok(Object.isFrozen(config));
});

void test('settings are read from the environment and converted to base units', () => {
  const config = loadConfig({
    AGENT_FLEET_HOME: '/srv/fleet',
    DATABASE_URL: 'postgresql://fleet@db.internal/fleet',
    ORCHESTRATOR_PORT: '0',
    ORCHESTRATOR_ADMIN_TOKEN_SHA256: 'a'.repeat(64),
    AGENT_IMAGE: 'registry.example/agent:1',
    FLEET_SUBNET_POOL: '10.50.0.0/20',
    FLEET_SUBNET_PREFIX: '29',
    AGENT_MEMORY_MIB: '256',
    AGENT_CPUS: '1.5',
    AGENT_PIDS_LIMIT: '64',
    AGENT_TMPFS_MIB: '8',
    AGENT_OCI_RUNTIME: 'runsc',
    AGENT_HEALTH_TIMEOUT_SECONDS: '2.5',
    RECONCILE_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'debug',
  });
  assert.equal(config.targetsFile, '/srv/fleet/targets/agents.json');
  assert.equal(config.databaseUrl, 'postgresql://fleet@db.internal/fleet');
  assert.equal(config.api.port, 0);
  assert.equal(config.api.adminTokenSha256, 'a'.repeat(64));
  assert.equal(config.subnetPrefix, 29);
  assert.equal(config.agent.image, 'registry.example/agent:1');
  assert.equal(config.agent.memoryBytes, 256 * MIB);
  assert.equal(config.agent.nanoCpus, 1_500_000_000);
  assert.equal(config.agent.tmpfsBytes, 8 * MIB);
  assert.equal(config.agent.ociRuntime, 'runsc');
  assert.equal(config.agent.healthTimeoutMs, 2500);
  assert.equal(config.reconcileIntervalMs, 0, 'the loop can be turned off');
  assert.equal(config.logLevel, 'debug');
});

void test('every invalid value is reported at once, each naming its variable', () => {
  const invalid = {
    DATABASE_URL: 'not a url',
    ORCHESTRATOR_PORT: '70000',
    ORCHESTRATOR_ADMIN_TOKEN_SHA256: 'plaintext-token',
    FLEET_SUBNET_POOL: '10.213.0.0',
    FLEET_SUBNET_PREFIX: '30',
    AGENT_MEMORY_MIB: '16',
    AGENT_CPUS: 'lots',
    AGENT_PIDS_LIMIT: '1.5',
    AGENT_TMPFS_MIB: '0',
    AGENT_HEALTH_TIMEOUT_SECONDS: '-1',
    RECONCILE_INTERVAL_SECONDS: '99999',
    LOG_LEVEL: 'verbose',
  };
  let message = '';
  assert.throws(
    () => loadConfig(invalid),
    (error: unknown) => {
      message = (error as Error).message;
      return true;
    },
  );
  assert.match(message, /^invalid orchestrator configuration:/);
  for (const name of Object.keys(invalid)) assert.match(message, new RegExp(`^  ${name}: `, 'm'), `${name} is reported`);
  assert.ok(!message.includes('plaintext-token'), 'a rejected token value is not echoed');
});

void test('a subnet prefix shorter than the pool prefix is refused', () => {
  assert.throws(() => loadConfig({ FLEET_SUBNET_POOL: '10.213.0.0/24', FLEET_SUBNET_PREFIX: '20' }), /FLEET_SUBNET_PREFIX: must be at least the pool prefix/);
  assert.equal(loadConfig({ FLEET_SUBNET_POOL: '10.213.0.0/24', FLEET_SUBNET_PREFIX: '24' }).subnetPrefix, 24);
});

void test('unrelated environment variables are ignored', () => {
  assert.equal(loadConfig({ PATH: '/usr/bin', HOME: '/root', SOMETHING_ELSE: 'x' }).api.port, 7400);
});

void test('FLEET_RUNTIME defaults to docker, with the documented kubernetes defaults', () => {
  const config = loadConfig({});
  assert.equal(config.runtime, 'docker');
  assert.deepEqual(config.kubernetes, {
    context: undefined,
    helmPath: 'helm',
    kubectlPath: 'kubectl',
    chartPath: '/app/charts/fleet-agent',
    orchestratorNamespace: 'agent-fleet',
    monitoringNamespace: 'monitoring',
    vaultNamespace: undefined,
    storageClassName: undefined,
    volumeSize: '1Gi',
    clusterDomain: 'cluster.local',
    commandEnv: {},
  });
});

void test('FLEET_RUNTIME=kubernetes reads the cluster settings, and helm and kubectl get only the environment they need', () => {
  const config = loadConfig({
    FLEET_RUNTIME: 'kubernetes',
    VAULT_ADDR: 'https://vault.vault.svc:8200',
    VAULT_TOKEN_FILE: '/run/secrets/vault-token',
    KUBECONFIG: '/etc/fleet/kubeconfig',
    FLEET_KUBE_CONTEXT: 'prod-eu',
    FLEET_HELM_PATH: '/opt/k8s/helm',
    FLEET_KUBECTL_PATH: '/opt/k8s/kubectl',
    FLEET_AGENT_CHART: '/srv/charts/fleet-agent',
    FLEET_ORCHESTRATOR_NAMESPACE: 'fleet-system',
    FLEET_MONITORING_NAMESPACE: 'observability',
    FLEET_VAULT_NAMESPACE: 'vault',
    FLEET_AGENT_STORAGE_CLASS: 'fast-ssd',
    FLEET_AGENT_VOLUME_SIZE: '5Gi',
    FLEET_CLUSTER_DOMAIN: 'fleet.internal',
    PATH: '/usr/bin',
    HOME: '/tmp',
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    AWS_SECRET_ACCESS_KEY: 'must-not-leak',
  });
  assert.equal(config.runtime, 'kubernetes');
  assert.deepEqual(config.kubernetes, {
    context: 'prod-eu',
    helmPath: '/opt/k8s/helm',
    kubectlPath: '/opt/k8s/kubectl',
    chartPath: '/srv/charts/fleet-agent',
    orchestratorNamespace: 'fleet-system',
    monitoringNamespace: 'observability',
    vaultNamespace: 'vault',
    storageClassName: 'fast-ssd',
    volumeSize: '5Gi',
    clusterDomain: 'fleet.internal',
    commandEnv: {
      PATH: '/usr/bin',
      HOME: '/tmp',
      KUBECONFIG: '/etc/fleet/kubeconfig',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    },
  });
});

void test('an unknown FLEET_RUNTIME is refused with the allowed values', () => {
  assert.throws(() => loadConfig({ FLEET_RUNTIME: 'podman' }), /FLEET_RUNTIME: must be docker or kubernetes/);
});

void test('FLEET_RUNTIME=kubernetes needs VAULT_ADDR: pods cannot reach the embedded store', () => {
  assert.throws(() => loadConfig({ FLEET_RUNTIME: 'kubernetes' }), /VAULT_ADDR: is required with FLEET_RUNTIME=kubernetes/);
});

void test('invalid kubernetes settings are each reported', () => {
  let message = '';
  assert.throws(
    () =>
      loadConfig({
        FLEET_RUNTIME: 'kubernetes',
        VAULT_ADDR: 'https://vault.example',
        VAULT_TOKEN_FILE: '/run/token',
        FLEET_ORCHESTRATOR_NAMESPACE: 'Agent_Fleet',
        FLEET_AGENT_VOLUME_SIZE: 'lots',
        FLEET_CLUSTER_DOMAIN: '-bad-',
        FLEET_HELM_PATH: '',
      }),
    (error: unknown) => {
      message = (error as Error).message;
      return true;
    },
  );
  for (const name of ['FLEET_ORCHESTRATOR_NAMESPACE', 'FLEET_AGENT_VOLUME_SIZE', 'FLEET_CLUSTER_DOMAIN', 'FLEET_HELM_PATH']) {
    assert.match(message, new RegExp(`^  ${name}: `, 'm'), `${name} is reported`);
  }
});
