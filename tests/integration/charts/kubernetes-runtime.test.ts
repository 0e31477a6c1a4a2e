import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/agent/domain/client-id.ts';
import { createSilentLogger } from '@agent-fleet/agent/observability/logger.ts';
import { KubernetesContainerRuntime } from '../../../orchestrator/src/adapters/kubernetes/kubernetes-container-runtime.ts';
import { sampleSpec } from './fixtures.ts';
import { validateKubeObject } from './kube-schemas.ts';
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

  test('startAgent scales to one and waits for readiness; stopAgent scales to zero and waits for the pod to go', async () => {
    const runner = new RecordingCommandRunner();
    const runtime = runtimeWith(runner);
    await runtime.startAgent(acme);
    await runtime.stopAgent(acme, 7);
    assert.deepEqual(runner.lines, [
      'kubectl scale deployment/fleet-acme -n fleet-acme --replicas=1',
      'kubectl rollout status deployment/fleet-acme -n fleet-acme --timeout=120s',
      'kubectl scale deployment/fleet-acme -n fleet-acme --replicas=0',
      `kubectl delete pod -n fleet-acme -l ${SELECTOR} --grace-period=7 --ignore-not-found --wait=true --timeout=67s`,
    ]);
  });

  test('stopping an agent that does not exist succeeds without waiting', async () => {
    const runner = new RecordingCommandRunner().respond(/scale/, notFound('deployments.apps "fleet-acme"'));
    await runtimeWith(runner).stopAgent(acme, 10);
    assert.equal(runner.lines.length, 1);
  });

  test('a timed-out start is a retryable timeout error naming the agent', async () => {
    const runner = new RecordingCommandRunner().respond(/rollout status/, {
      code: 1,
      stderr: 'Waiting for deployment "fleet-acme" rollout to finish: 0 of 1 updated replicas are available...\nerror: timed out waiting for the condition\n',
    });
    await assert.rejects(runtimeWith(runner).startAgent(acme), { code: 'timeout', retryable: true, message: /fleet-acme.*timed out/ });
  });

  test('placeFile applies the file as a key of the client files ConfigMap, with its own field manager', async () => {
    const runner = new RecordingCommandRunner();
    await runtimeWith(runner).placeFile(acme, 'KILLED', '{"killed":true}\n', '10001:10001');
    assert.deepEqual(runner.lines, ['kubectl apply --server-side --field-manager=agent-fleet-orchestrator-file-KILLED -f -']);
    const applied = JSON.parse(runner.calls[0]?.stdin ?? '{}') as { items: Array<{ metadata: { name: string; labels: object }; data: object }> };
    for (const item of applied.items) validateKubeObject(item);
    assert.equal(applied.items[0]?.metadata.name, 'fleet-acme-files');
    assert.deepEqual(applied.items[0]?.metadata.labels, labels);
    assert.deepEqual(applied.items[0]?.data, { KILLED: '{"killed":true}\n' });
    await assert.rejects(runtimeWith(runner).placeFile(acme, '../etc/passwd', 'x', '10001'), { code: 'invalid_input' });
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

  test('a running, ready agent is running with its start time', async () => {
    const state = await inspect(deployment(1), pod({ ready: true, state: { running: { startedAt: '2026-05-01T10:00:00Z' } } }));
    assert.deepEqual(state, { clientId: 'acme', exists: true, running: true, status: 'running', exitCode: null, startedAt: '2026-05-01T10:00:00Z', hostPorts: null });
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
