import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createVaultClient } from '@agent-fleet/kernel/vault-client';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { startEmbeddedVault, type EmbeddedVault } from '../../../orchestrator/src/adapters/embedded-vault/start-embedded-vault.ts';
import { KubernetesContainerRuntime } from '../../../orchestrator/src/adapters/kubernetes/kubernetes-container-runtime.ts';
import { ProcessCommandRunner } from '../../../orchestrator/src/adapters/process/process-command-runner.ts';
import { describeClient } from '../../../orchestrator/src/services/describe-client.ts';
import { createFleetFixture, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { testFleetCa } from '../../helpers/agent-tls.ts';
import { FakeCluster } from './fake-cluster.ts';
import { sampleSpec } from './fixtures.ts';
import { AGENT_CHART, k8sTools } from './helm.ts';
import { validateKubeObject } from './kube-schemas.ts';
import { RecordingAgentControl } from './recording-agent-control.ts';
import { notFound, RecordingCommandRunner } from './recording-runner.ts';

const acme = parseClientId('acme');
const labels = { 'io.agentfleet.client': 'acme', 'io.agentfleet.managed': 'true' };
const SELECTOR = 'io.agentfleet.client=acme,io.agentfleet.managed=true';

function runtimeWith(runner: RecordingCommandRunner): KubernetesContainerRuntime {
  return new KubernetesContainerRuntime({
    runner,
    helmPath: '/opt/k8s/helm',
    kubectlPath: '/opt/k8s/kubectl',
    chartPath: '/app/charts/fleet-agent',
    agent: {
      vault: { address: 'https://vault.vault.svc:8200', namespace: 'vault' },
      monitoringNamespace: 'monitoring',
      orchestratorNamespace: 'agent-fleet',
      volumeSize: '2Gi',
    },
    logger: createSilentLogger(),
  });
}

const object = (kind: string, name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
  kind,
  metadata: { name, namespace: 'fleet-acme', labels, ...((extra.metadata as object) ?? {}) },
  ...extra,
});
const list = (...items: unknown[]) => ({ stdout: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });

describe('KubernetesContainerRuntime command lines', () => {
  test('ensureVolume checks ownership, then applies the namespace and a labelled claim server-side', async () => {
    const runner = new RecordingCommandRunner();
    const result = await runtimeWith(runner).ensureVolume(acme);
    assert.deepEqual(result, { created: true });
    assert.deepEqual(runner.lines, [
      'kubectl get namespace fleet-acme -o json --ignore-not-found',
      'kubectl get persistentvolumeclaim fleet-acme-data -n fleet-acme -o json --ignore-not-found',
      'kubectl apply --server-side --field-manager=agent-fleet-orchestrator -f -',
    ]);
    const applied = JSON.parse(runner.calls[2]?.stdin ?? '{}') as {
      items: Array<{ kind: string; metadata: { labels: object }; spec: { resources: { requests: { storage: string } } } }>;
    };
    assert.deepEqual(applied.items.map((item) => item.kind), ['Namespace', 'PersistentVolumeClaim']);
    for (const item of applied.items) validateKubeObject(item);
    const claim = applied.items[1]!;
    assert.deepEqual(claim.metadata.labels, labels);
    assert.equal(claim.spec.resources.requests.storage, '2Gi');
  });

  test('ensureVolume is idempotent: an existing managed claim is left alone', async () => {
    const runner = new RecordingCommandRunner().respond(/get persistentvolumeclaim/, { stdout: JSON.stringify(object('PersistentVolumeClaim', 'fleet-acme-data')) });
    assert.deepEqual(await runtimeWith(runner).ensureVolume(acme), { created: false });
    assert.equal(runner.lines.some((line) => line.includes('apply')), false);
  });

  test('a namespace fleet-<id> that is not ours is a conflict, and nothing is applied', async () => {
    const runner = new RecordingCommandRunner().respond(/get namespace fleet-acme/, {
      stdout: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fleet-acme', labels: { team: 'someone-else' } } }),
    });
    await assert.rejects(runtimeWith(runner).ensureNetwork(acme, '10.213.0.0/28'), { code: 'conflict', message: /not managed by agent-fleet/ });
    assert.equal(runner.lines.some((line) => line.includes('apply')), false);
  });

  test('ensureNetwork applies the namespace with restricted Pod Security and a namespace-wide deny-all policy', async () => {
    const runner = new RecordingCommandRunner();
    const network = await runtimeWith(runner).ensureNetwork(acme, '10.213.0.0/28');
    assert.deepEqual(network, { name: 'fleet-acme', subnet: '', gateway: '', created: true });
    assert.equal(runner.lines[1], 'kubectl get networkpolicy fleet-default-deny -n fleet-acme -o json --ignore-not-found');
    const applied = JSON.parse(runner.calls[2]?.stdin ?? '{}') as { items: Array<{ kind: string; metadata: { labels: Record<string, string> }; spec?: unknown }> };
    for (const item of applied.items) validateKubeObject(item);
    assert.equal(applied.items[0]?.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
    assert.deepEqual(applied.items[1]?.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    assert.deepEqual(await runtimeWith(new RecordingCommandRunner()).listSubnetsInUse(), []);
  });

  test('createAgent installs the release stopped, with values on stdin and the configmap storage driver', async () => {
    const runner = new RecordingCommandRunner();
    await runtimeWith(runner).createAgent(sampleSpec());
    assert.deepEqual(runner.lines, [
      'kubectl get deployment fleet-acme -n fleet-acme -o json --ignore-not-found',
      'helm upgrade --install fleet-acme /app/charts/fleet-agent --namespace fleet-acme --create-namespace --values - --wait=watcher --timeout 300s --history-max 3',
    ]);
    const helmCall = runner.calls[1];
    assert.deepEqual(helmCall?.env, { HELM_DRIVER: 'configmap' });
    const values = JSON.parse(helmCall?.stdin ?? '{}') as { replicas: number; clientId: string; persistence: { create: boolean }; config: string };
    assert.equal(values.clientId, 'acme');
    assert.equal(values.replicas, 0);
    assert.equal(values.persistence.create, false);
    assert.match(values.config, /provider: gmail/);
  });

  test('re-creating a running agent keeps it running', async () => {
    const runner = new RecordingCommandRunner().respond(/get deployment fleet-acme/, {
      stdout: JSON.stringify(object('Deployment', 'fleet-acme', { spec: { replicas: 1 } })),
    });
    await runtimeWith(runner).createAgent(sampleSpec());
    assert.equal((JSON.parse(runner.calls[1]?.stdin ?? '{}') as { replicas: number }).replicas, 1);
  });

  test('startAgent scales to one without waiting for readiness (the introduction comes later); stopAgent scales to zero and waits for the pod to go', async () => {
    const runner = new RecordingCommandRunner();
    const runtime = runtimeWith(runner);
    await runtime.startAgent(acme);
    await runtime.stopAgent(acme, 7);
    assert.deepEqual(runner.lines, [
      'kubectl scale deployment/fleet-acme -n fleet-acme --replicas=1',
      'kubectl scale deployment/fleet-acme -n fleet-acme --replicas=0',
      `kubectl delete pod -n fleet-acme -l ${SELECTOR} --grace-period=7 --ignore-not-found --wait=true --timeout=67s`,
    ]);
  });

  test('stopping an agent that does not exist succeeds without waiting', async () => {
    const runner = new RecordingCommandRunner().respond(/scale/, notFound('deployments.apps "fleet-acme"'));
    await runtimeWith(runner).stopAgent(acme, 10);
    assert.equal(runner.lines.length, 1);
  });

  test('a timed-out helm install is a retryable timeout error naming the release', async () => {
    const runner = new RecordingCommandRunner().respond(/helm upgrade/, {
      code: 1,
      stderr: 'Error: UPGRADE FAILED: context deadline exceeded: timed out waiting for the condition\n',
    });
    await assert.rejects(runtimeWith(runner).createAgent(sampleSpec()), { code: 'timeout', retryable: true, message: /fleet-acme.*timed out/ });
  });

  test('starting an agent whose release is gone is not_found', async () => {
    const runner = new RecordingCommandRunner().respond(/scale/, notFound('deployments.apps "fleet-acme"'));
    await assert.rejects(runtimeWith(runner).startAgent(acme), { code: 'not_found' });
  });

  test('placeFiles applies each file as a key of the client files ConfigMap, with its own field manager', async () => {
    const runner = new RecordingCommandRunner();
    await runtimeWith(runner).placeFiles(acme, { KILLED: '{"killed":true}\n' }, '10001:10001');
    assert.deepEqual(runner.lines, ['kubectl apply --server-side --field-manager=agent-fleet-orchestrator-file-KILLED -f -']);
    const applied = JSON.parse(runner.calls[0]?.stdin ?? '{}') as { items: Array<{ metadata: { name: string; labels: object }; data: object }> };
    for (const item of applied.items) validateKubeObject(item);
    assert.equal(applied.items[0]?.metadata.name, 'fleet-acme-files');
    assert.deepEqual(applied.items[0]?.metadata.labels, labels);
    assert.deepEqual(applied.items[0]?.data, { KILLED: '{"killed":true}\n' });
    await assert.rejects(runtimeWith(runner).placeFiles(acme, { '../etc/passwd': 'x' }, '10001'), { code: 'invalid_input' });
    const two = new RecordingCommandRunner();
    await runtimeWith(two).placeFiles(acme, { 'a.txt': 'a', 'b.txt': 'b' }, '10001:10001');
    assert.deepEqual(
      [...two.lines].sort(),
      ['kubectl apply --server-side --field-manager=agent-fleet-orchestrator-file-a.txt -f -', 'kubectl apply --server-side --field-manager=agent-fleet-orchestrator-file-b.txt -f -'],
      'placing one file never takes another one’s key',
    );
  });

  test('removeAgent uninstalls the release, tolerating one that is gone', async () => {
    const runner = new RecordingCommandRunner();
    await runtimeWith(runner).removeAgent(acme);
    assert.deepEqual(runner.lines, ['helm uninstall fleet-acme --namespace fleet-acme --ignore-not-found --wait=watcher --timeout 300s']);
    assert.deepEqual(runner.calls[0]?.env, { HELM_DRIVER: 'configmap' });
  });

  test('removeNetwork deletes the deny-all policy but keeps the namespace while the volume is in it', async () => {
    const runner = new RecordingCommandRunner()
      .respond(/get networkpolicy fleet-default-deny/, { stdout: JSON.stringify(object('NetworkPolicy', 'fleet-default-deny')) })
      .respond(/get namespace fleet-acme/, { stdout: JSON.stringify({ kind: 'Namespace', metadata: { name: 'fleet-acme', labels } }) })
      .respond(/get persistentvolumeclaim,deployment,networkpolicy/, list(object('PersistentVolumeClaim', 'fleet-acme-data')));
    await runtimeWith(runner).removeNetwork(acme);
    assert.deepEqual(runner.lines, [
      'kubectl get networkpolicy fleet-default-deny -n fleet-acme -o json --ignore-not-found',
      'kubectl delete networkpolicy fleet-default-deny -n fleet-acme --ignore-not-found --wait=true --timeout=120s',
      'kubectl get namespace fleet-acme -o json --ignore-not-found',
      `kubectl get persistentvolumeclaim,deployment,networkpolicy -n fleet-acme -l ${SELECTOR} -o json`,
    ]);
  });

  test('removeVolume deletes the claim by label and then the namespace once nothing of the client is left', async () => {
    const runner = new RecordingCommandRunner()
      .respond(/get namespace fleet-acme/, { stdout: JSON.stringify({ kind: 'Namespace', metadata: { name: 'fleet-acme', labels } }) })
      .respond(/get persistentvolumeclaim,deployment,networkpolicy/, list());
    await runtimeWith(runner).removeVolume(acme);
    assert.deepEqual(runner.lines, [
      `kubectl delete persistentvolumeclaim -n fleet-acme -l ${SELECTOR} --ignore-not-found --wait=true --timeout=120s`,
      'kubectl get networkpolicy fleet-default-deny -n fleet-acme -o json --ignore-not-found',
      'kubectl get namespace fleet-acme -o json --ignore-not-found',
      `kubectl get persistentvolumeclaim,deployment,networkpolicy -n fleet-acme -l ${SELECTOR} -o json`,
      'kubectl delete namespace fleet-acme --ignore-not-found --wait=true --timeout=120s',
    ]);
  });

  test('RBAC refusals become forbidden errors, helm ownership clashes conflicts', async () => {
    const forbidden = new RecordingCommandRunner().respond(/apply/, {
      code: 1,
      stderr: 'Error from server (Forbidden): namespaces "fleet-acme" is forbidden: User "system:serviceaccount:agent-fleet:fleet-orchestrator" cannot patch resource\n',
    });
    await assert.rejects(runtimeWith(forbidden).ensureVolume(acme), { code: 'forbidden' });
    const clash = new RecordingCommandRunner().respond(/helm upgrade/, {
      code: 1,
      stderr: 'Error: Unable to continue with install: ConfigMap "fleet-acme-config" in namespace "fleet-acme" exists and cannot be imported into the current release: invalid ownership metadata\n',
    });
    await assert.rejects(runtimeWith(clash).createAgent(sampleSpec()), { code: 'conflict' });
  });
});

describe('KubernetesContainerRuntime parsing of recorded kubectl output', () => {
  const deployment = (replicas: number) => object('Deployment', 'fleet-acme', { spec: { replicas }, status: { readyReplicas: replicas } });
  const pod = (containerStatus: Record<string, unknown>) =>
    object('Pod', 'fleet-acme-7d9f8-abcde', { status: { phase: 'Running', containerStatuses: [{ name: 'agent', ...containerStatus }] } });

  async function inspect(...items: unknown[]) {
    const runner = new RecordingCommandRunner().respond(/get deployment,pod/, list(...items));
    const state = await runtimeWith(runner).inspectAgent(acme);
    assert.deepEqual(runner.lines, [`kubectl get deployment,pod -n fleet-acme -l ${SELECTOR} -o json`]);
    return state;
  }

  test('a running agent is running with its start time, reached at its Service DNS name', async () => {
    const state = await inspect(deployment(1), pod({ ready: true, state: { running: { startedAt: '2026-05-01T10:00:00Z' } } }));
    assert.deepEqual(state, {
      clientId: 'acme',
      exists: true,
      running: true,
      status: 'running',
      exitCode: null,
      startedAt: '2026-05-01T10:00:00Z',
      endpoints: { control: 'fleet-acme.fleet-acme.svc.cluster.local:8080', metrics: 'fleet-acme.fleet-acme.svc.cluster.local:9464' },
    });
  });

  test('the Service address follows the configured cluster domain', async () => {
    const runner = new RecordingCommandRunner().respond(/get deployment,pod/, list(deployment(1)));
    const runtime = new KubernetesContainerRuntime({
      runner,
      helmPath: 'helm',
      kubectlPath: 'kubectl',
      chartPath: '/app/charts/fleet-agent',
      clusterDomain: 'fleet.example',
      agent: { vault: { address: 'https://vault.example' }, monitoringNamespace: 'monitoring', orchestratorNamespace: 'agent-fleet' },
      logger: createSilentLogger(),
    });
    assert.equal((await runtime.inspectAgent(acme))?.endpoints?.control, 'fleet-acme.fleet-acme.svc.fleet.example:8080');
  });

  test('an agent scaled to zero is stopped; one in a crash loop is restarting with its last exit code', async () => {
    assert.equal((await inspect(deployment(0)))?.status, 'stopped');
    const crashing = await inspect(
      deployment(1),
      pod({ state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 78, startedAt: '2026-05-01T10:00:00Z' } } }),
    );
    assert.equal(crashing?.status, 'restarting');
    assert.equal(crashing?.running, false);
    assert.equal(crashing?.exitCode, 78);
  });

  test('a pod not yet started is created; no deployment means no agent', async () => {
    assert.equal((await inspect(deployment(1), pod({ state: { waiting: { reason: 'ContainerCreating' } } })))?.status, 'created');
    assert.equal((await inspect(deployment(1)))?.status, 'created');
    assert.equal(await inspect(), null);
  });

  test('garbage from kubectl is an internal error, not an empty answer', async () => {
    const runner = new RecordingCommandRunner().respond(/get deployment,pod/, { stdout: 'Unable to connect to the server' });
    await assert.rejects(runtimeWith(runner).inspectAgent(acme), { code: 'internal' });
  });

  test('listManaged maps deployments, claims and namespaces to containers, volumes and networks across namespaces', async () => {
    const runner = new RecordingCommandRunner().respond(
      /get namespace,deployment,persistentvolumeclaim/,
      list(
        { kind: 'Namespace', metadata: { name: 'fleet-acme', labels } },
        object('Deployment', 'fleet-acme'),
        object('PersistentVolumeClaim', 'fleet-acme-data'),
        { kind: 'Deployment', metadata: { name: 'stray', namespace: 'x', labels: { 'io.agentfleet.managed': 'true' } } },
      ),
    );
    const resources = await runtimeWith(runner).listManaged();
    assert.deepEqual(runner.lines, ['kubectl get namespace,deployment,persistentvolumeclaim --all-namespaces -l io.agentfleet.managed=true -o json']);
    assert.deepEqual(resources, [
      { kind: 'network', name: 'fleet-acme', clientId: 'acme' },
      { kind: 'container', name: 'fleet-acme', clientId: 'acme' },
      { kind: 'volume', name: 'fleet-acme-data', clientId: 'acme' },
    ]);
  });
});

/**
 * FLEET_K8S_REAL_CLUSTER=1 (with KUBECONFIG) runs this suite's command lines against that cluster through
 * the real ProcessCommandRunner instead of the in-memory FakeCluster. The agents' control APIs are still
 * stood in for (their Service names resolve only inside the cluster); the assertions are the same.
 */
const REAL_CLUSTER = process.env.FLEET_K8S_REAL_CLUSTER === '1';
const AGENT_VAULT_ADDR = 'https://vault.vault.svc:8200';

describe(`the composed orchestrator with FLEET_RUNTIME=kubernetes (${REAL_CLUSTER ? 'real cluster' : 'fake cluster'})`, () => {
  const clientId = uniqueClientId('k');
  const ns = `fleet-${clientId}`;
  const selector = `io.agentfleet.client=${clientId},io.agentfleet.managed=true`;
  const service = `fleet-${clientId}.${ns}.svc.cluster.local`;
  const cluster = new FakeCluster();
  let processRunner: ProcessCommandRunner | undefined;
  let runner: RecordingCommandRunner;
  let agents: RecordingAgentControl;
  let vault: EmbeddedVault;
  let vaultDir: string;
  let fleet: FleetFixture;
  let tools = { helm: '/opt/k8s/helm', kubectl: '/opt/k8s/kubectl' };

  before(async () => {
    if (REAL_CLUSTER) {
      if (!process.env.KUBECONFIG) throw new Error('FLEET_K8S_REAL_CLUSTER=1 needs KUBECONFIG naming the cluster to use');
      tools = k8sTools();
      const env: Record<string, string> = {};
      for (const name of ['PATH', 'HOME', 'KUBECONFIG'] as const) if (process.env[name]) env[name] = process.env[name];
      processRunner = new ProcessCommandRunner(env);
    }
    runner = new RecordingCommandRunner(processRunner ?? cluster);
    agents = new RecordingAgentControl();
    vaultDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-k8s-vault-'));
    // Stands in for the cluster's Vault on the orchestrator's side; agents are told AGENT_VAULT_ADDR.
    vault = await startEmbeddedVault({ dataDir: vaultDir, listen: [{ host: '127.0.0.1', port: 0 }], logger: createSilentLogger(), certificates: await testFleetCa() });
    const tokenFile = path.join(vaultDir, 'orchestrator.token');
    await writeFile(tokenFile, vault.rootToken, { mode: 0o600 });
    const caFile = path.join(vaultDir, 'vault-ca.pem');
    await writeFile(caFile, vault.caCertificatePem);
    fleet = await createFleetFixture(
      {
        FLEET_RUNTIME: 'kubernetes',
        VAULT_ADDR: vault.url,
        VAULT_TOKEN_FILE: tokenFile,
        VAULT_CACERT: caFile,
        VAULT_AGENT_ADDR: AGENT_VAULT_ADDR,
        FLEET_HELM_PATH: tools.helm,
        FLEET_KUBECTL_PATH: tools.kubectl,
        FLEET_AGENT_CHART: REAL_CLUSTER ? AGENT_CHART : '/app/charts/fleet-agent',
        AGENT_HEALTH_TIMEOUT_SECONDS: REAL_CLUSTER ? '300' : '5',
        ...(process.env.AGENT_IMAGE ? { AGENT_IMAGE: process.env.AGENT_IMAGE } : {}),
      },
      { commandRunner: runner, control: agents, health: agents },
    );
  });

  after(async () => {
    await fleet?.orchestrator.close().catch(() => undefined);
    if (processRunner) {
      // Whatever a failed test left: the release, then the whole namespace (ours: fleet-<unique id>).
      await processRunner.run(tools.helm, ['uninstall', ns, '--namespace', ns, '--ignore-not-found'], { env: { HELM_DRIVER: 'configmap' } });
      await processRunner.run(tools.kubectl, ['delete', 'namespace', ns, '--ignore-not-found', '--wait=true', '--timeout=180s']);
    }
    await fleet?.cleanup([]);
    await vault?.close();
    await rm(vaultDir, { recursive: true, force: true });
  });

  test('the orchestrator runs agents on kubernetes and refuses a provision asking for docker, before any command', async () => {
    assert.equal(fleet.orchestrator.runtime.kind, 'kubernetes');
    await assert.rejects(fleet.orchestrator.provision.provision({ clientId, actor: 'ops', runtime: 'docker' }), {
      code: 'conflict',
      message: 'this orchestrator runs agents on kubernetes; restart it with FLEET_RUNTIME=docker',
    });
    assert.deepEqual(runner.lines, []);
    assert.equal(await fleet.orchestrator.registry.getClient(clientId), null);
  });

  test('provision installs the release and reaches the agent at its Service address for health, introduction and scraping', async () => {
    runner.calls.length = 0;
    const result = await fleet.orchestrator.provision.provision({ clientId, actor: 'ops', runtime: 'kubernetes' });
    assert.equal(result.outcome, 'provisioned');
    assert.ok(result.outcome === 'provisioned');
    assert.equal(result.runtime, 'kubernetes');
    assert.equal(result.controlAddress, `${service}:8080`);
    assert.equal(result.metricsAddress, `${service}:9464`);

    const lines = runner.lines;
    const healthChecks = lines.slice(9);
    assert.deepEqual(lines.slice(0, 9), [
      `kubectl get namespace ${ns} -o json --ignore-not-found`,
      `kubectl get persistentvolumeclaim ${ns}-data -n ${ns} -o json --ignore-not-found`,
      'kubectl apply --server-side --field-manager=agent-fleet-orchestrator -f -',
      `kubectl get namespace ${ns} -o json --ignore-not-found`,
      `kubectl get networkpolicy fleet-default-deny -n ${ns} -o json --ignore-not-found`,
      'kubectl apply --server-side --field-manager=agent-fleet-orchestrator -f -',
      `kubectl get deployment ${ns} -n ${ns} -o json --ignore-not-found`,
      `helm upgrade --install ${ns} ${REAL_CLUSTER ? AGENT_CHART : '/app/charts/fleet-agent'} --namespace ${ns} --create-namespace --values - --wait=watcher --timeout 300s --history-max 3`,
      `kubectl scale deployment/${ns} -n ${ns} --replicas=1`,
    ]);
    assert.ok(healthChecks.length >= 1);
    for (const line of healthChecks) assert.equal(line, `kubectl get deployment,pod -n ${ns} -l ${selector} -o json`);

    const values = JSON.parse(runner.calls[7]?.stdin ?? '{}') as { clientId: string; replicas: number; vault: { address: string }; env: Record<string, string> };
    assert.equal(values.clientId, clientId);
    assert.equal(values.replicas, 0, 'installed stopped, then scaled');
    assert.equal(values.vault.address, AGENT_VAULT_ADDR);
    assert.equal(values.env.VAULT_ADDR, undefined, 'the chart sets VAULT_ADDR from vault.address');

    assert.deepEqual(agents.calls.at(-3), { call: 'healthz', address: `${service}:8080` });
    assert.deepEqual(agents.calls.slice(-2), [
      { call: 'introduce', address: `${service}:8080`, vaultAddr: AGENT_VAULT_ADDR },
      { call: 'readyz', address: `${service}:8080` },
    ]);
    assert.deepEqual(await fleet.orchestrator.targets.list(), [{ clientId, address: `${service}:9464` }]);

    const [entry] = await fleet.orchestrator.registry.listOpsLog({ clientId });
    assert.equal(entry?.action, 'provision');
    assert.equal((entry?.details as { runtime?: string }).runtime, 'kubernetes');
    const status = await describeClient(fleet.orchestrator, clientId);
    assert.equal(status.runtime, 'kubernetes');
    assert.equal(status.client.status, 'active');
    assert.deepEqual(status.agent?.endpoints, { control: `${service}:8080`, metrics: `${service}:9464` });
    if (!REAL_CLUSTER) assert.equal(cluster.list('Deployment', ns)[0]?.spec?.replicas, 1);
  });

  test('kill tells the agent at its Service address, places the KILLED flag in the files ConfigMap and scales to zero', async () => {
    runner.calls.length = 0;
    agents.calls.length = 0;
    const result = await fleet.orchestrator.kill.kill({ clientId, reason: 'k8s suite', actor: 'ops' });
    assert.equal(result.containerStopped, true);
    assert.deepEqual(agents.calls, [{ call: 'POST /v1/kill', address: `${service}:8080` }]);
    assert.deepEqual(runner.lines.slice(0, 2), [
      `kubectl get deployment,pod -n ${ns} -l ${selector} -o json`,
      'kubectl apply --server-side --field-manager=agent-fleet-orchestrator-file-KILLED -f -',
    ]);
    assert.deepEqual(runner.lines.slice(2), [
      `kubectl scale deployment/${ns} -n ${ns} --replicas=0`,
      `kubectl delete pod -n ${ns} -l ${selector} --grace-period=0 --ignore-not-found --wait=true --timeout=60s`,
    ]);
    const flag = JSON.parse(runner.calls[1]?.stdin ?? '{}') as { items: Array<{ metadata: { name: string }; data: Record<string, string> }> };
    assert.equal(flag.items[0]?.metadata.name, `${ns}-files`);
    assert.match(flag.items[0]?.data.KILLED ?? '', /"killed":true/);
    assert.deepEqual(await fleet.orchestrator.targets.list(), []);
    assert.equal((await fleet.orchestrator.registry.getClient(clientId))?.status, 'killed');
  });

  test('revive takes the KILLED flag back out of the files ConfigMap before the agent starts again', async () => {
    runner.calls.length = 0;
    agents.calls.length = 0;
    await fleet.orchestrator.revive.revive({ clientId, reason: 'k8s suite', actor: 'ops' });
    assert.deepEqual(runner.lines.slice(0, 3), [
      `kubectl get deployment,pod -n ${ns} -l ${selector} -o json`,
      'kubectl apply --server-side --field-manager=agent-fleet-orchestrator-file-KILLED -f -',
      `kubectl scale deployment/${ns} -n ${ns} --replicas=1`,
    ]);
    const applied = JSON.parse(runner.calls[1]?.stdin ?? '{}') as { items: Array<{ metadata: { name: string }; data: Record<string, string> }> };
    assert.equal(applied.items[0]?.metadata.name, `${ns}-files`);
    assert.deepEqual(applied.items[0]?.data, {}, 'the same field manager applies the ConfigMap without the key');
    if (!REAL_CLUSTER) assert.equal(cluster.list('ConfigMap', ns).find((map) => map.metadata.name === `${ns}-files`)?.data?.KILLED, undefined);
    assert.deepEqual(
      agents.calls.filter((call) => call.call !== 'healthz').map((call) => [call.call, call.address]),
      [
        ['introduce', `${service}:8080`],
        ['readyz', `${service}:8080`],
        ['POST /v1/revive', `${service}:8080`],
      ],
    );
    assert.equal((await fleet.orchestrator.registry.getClient(clientId))?.status, 'active');
  });

  test('every start leaves a fresh certificate naming the client in its Vault path, where the chart’s Vault Agent renders it from', async () => {
    const vaultClient = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
    const read = async () => ((await vaultClient.read(`fleet/data/${clientId}/tls/agent`)) as { data: { data: Record<string, string> } }).data.data;
    const stored = await read();
    const certificate = new X509Certificate(stored['certificate'] ?? '');
    assert.equal(certificate.subjectAltName, `URI:spiffe://agent-fleet/client/${clientId}, DNS:${clientId}.agents.fleet.internal`);
    assert.equal(stored['ca_certificate'], fleet.orchestrator.tls.ca.certificatePem);
    assert.match(stored['private_key'] ?? '', /BEGIN PRIVATE KEY/);
    runner.calls.length = 0;
    await fleet.orchestrator.rotate.rotate({ clientId, reason: 'k8s suite', actor: 'ops' });
    assert.ok(!JSON.stringify(runner.calls).includes('PRIVATE KEY'), 'the key is in no command or manifest');
    assert.notEqual((await read())['certificate'], stored['certificate'], 'rotation stores a renewed certificate');
  });

  test('deprovision with purge uninstalls the release and removes the policy, the claim and then the namespace', async () => {
    runner.calls.length = 0;
    await fleet.orchestrator.deprovision.deprovision({ clientId, purge: true, reason: 'k8s suite', actor: 'ops' });
    assert.deepEqual(runner.lines, [
      `kubectl scale deployment/${ns} -n ${ns} --replicas=0`,
      `kubectl delete pod -n ${ns} -l ${selector} --grace-period=10 --ignore-not-found --wait=true --timeout=70s`,
      `helm uninstall ${ns} --namespace ${ns} --ignore-not-found --wait=watcher --timeout 300s`,
      `kubectl get networkpolicy fleet-default-deny -n ${ns} -o json --ignore-not-found`,
      `kubectl delete networkpolicy fleet-default-deny -n ${ns} --ignore-not-found --wait=true --timeout=120s`,
      `kubectl get namespace ${ns} -o json --ignore-not-found`,
      `kubectl get persistentvolumeclaim,deployment,networkpolicy -n ${ns} -l ${selector} -o json`,
      `kubectl delete persistentvolumeclaim -n ${ns} -l ${selector} --ignore-not-found --wait=true --timeout=120s`,
      `kubectl get networkpolicy fleet-default-deny -n ${ns} -o json --ignore-not-found`,
      `kubectl get namespace ${ns} -o json --ignore-not-found`,
      `kubectl get persistentvolumeclaim,deployment,networkpolicy -n ${ns} -l ${selector} -o json`,
      `kubectl delete namespace ${ns} --ignore-not-found --wait=true --timeout=120s`,
    ]);
    assert.equal(await fleet.orchestrator.registry.getClient(clientId), null);
    if (!REAL_CLUSTER) {
      for (const kind of ['Namespace', 'Deployment', 'PersistentVolumeClaim', 'NetworkPolicy', 'ConfigMap']) {
        assert.deepEqual(cluster.list(kind).filter((object) => object.metadata.name.startsWith(ns)), [], `${kind} left behind`);
      }
    }
  });
});
