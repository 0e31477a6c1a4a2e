import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { findObject, helm, helmTemplate, ORCHESTRATOR_CHART, REPO_ROOT, type KubeObject } from './helm.ts';
import { validateKubeObject } from './kube-schemas.ts';

const RULES_SOURCE = path.join(REPO_ROOT, 'deploy/prometheus/rules/agents.yml');
const RULES_COPY = path.join(ORCHESTRATOR_CHART, 'files/agents-rules.yml');

const edgeCase = {
  image: { repository: 'registry.example.com/agent-fleet/orchestrator', tag: 'v0.1.0-rc.1', digest: `sha256:${'b'.repeat(64)}`, pullPolicy: 'Always' },
  imagePullSecrets: ['regcred'],
  database: { existingSecret: 'fleet-db', secretKey: 'url' },
  persistence: { enabled: false, size: '1Gi' },
  rbac: { create: true },
  admissionPolicy: { enabled: false },
  networkPolicy: { enabled: true, apiClientNamespaces: ['ops', 'portal'], dns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } }, egressPorts: [443] },
  config: { logLevel: 'debug', reconcileIntervalSeconds: 0, adminTokenSha256: 'c'.repeat(64), agent: { image: 'registry.example.com/agent@sha256:' + 'd'.repeat(64), memoryMiB: 256, cpus: '1.5', pidsLimit: 256, tmpfsMiB: 32, healthTimeoutSeconds: 120 } },
  monitoring: {
    namespace: 'observability',
    prometheusRule: { enabled: true, labels: { release: 'kube-prometheus' } },
    serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'kube-prometheus' } },
    agentsServiceMonitor: { enabled: false, interval: '30s' },
  },
};

function render(values?: unknown): KubeObject[] {
  return helmTemplate(ORCHESTRATOR_CHART, 'fleet-orchestrator', 'agent-fleet', values);
}

describe('charts/fleet-orchestrator', () => {
  test('helm lint passes with the default and the edge-case values', () => {
    for (const values of [undefined, edgeCase]) {
      const result = helm(['lint', ORCHESTRATOR_CHART, '--strict', '--namespace', 'agent-fleet'], values);
      assert.equal(result.code, 0, result.stdout + result.stderr);
    }
  });

  test('every rendered object is valid against the Kubernetes and Prometheus operator schemas', () => {
    for (const values of [undefined, edgeCase]) {
      for (const object of render(values)) validateKubeObject(object);
    }
  });

  test("the chart's copy of the alert rules is byte-identical to deploy/prometheus/rules/agents.yml", () => {
    const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    assert.equal(digest(RULES_COPY), digest(RULES_SOURCE), 'the chart copy is stale: run charts/sync-rules.sh');
    const check = spawnSync('bash', [path.join(REPO_ROOT, 'charts/sync-rules.sh'), '--check'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  });

  test('the PrometheusRule carries exactly the rule groups of deploy/prometheus/rules/agents.yml, placeholders untouched', () => {
    const rule = findObject(render(), 'PrometheusRule');
    const source = parse(readFileSync(RULES_SOURCE, 'utf8')) as { groups: unknown[] };
    assert.ok(source.groups.length > 0);
    assert.deepEqual(rule.spec, source);
    assert.match(JSON.stringify(rule.spec), /\{\{ \$labels\.client \}\}/);
  });

  test('the orchestrator is hardened: non-root, read-only root, no escalation, no capabilities, limits and probes', () => {
    for (const values of [undefined, edgeCase]) {
      const pod = findObject(render(values), 'Deployment').spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
      const [container] = pod.containers;
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false);
      assert.equal(container.securityContext.privileged, false);
      assert.deepEqual(container.securityContext.capabilities, { drop: ['ALL'] });
      assert.ok(container.resources.limits.memory && container.resources.limits.cpu);
      assert.ok(container.resources.requests.memory && container.resources.requests.cpu);
      assert.equal(container.livenessProbe.httpGet.path, '/healthz');
      assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    }
  });

  test('the database URL comes from an existing Secret by reference, never inline', () => {
    const container = findObject(render(edgeCase), 'Deployment').spec.template.spec.containers[0];
    const database = container.env.find((entry: KubeObject) => entry.name === 'DATABASE_URL');
    assert.deepEqual(database.valueFrom, { secretKeyRef: { name: 'fleet-db', key: 'url' } });
    const config = findObject(render(edgeCase), 'ConfigMap');
    assert.equal(config.data.FLEET_RUNTIME, 'kubernetes');
    assert.equal(config.data.HELM_DRIVER, 'configmap');
    assert.equal(config.data.DATABASE_URL, undefined);
  });

  test('the rendered settings load as the orchestrator config for FLEET_RUNTIME=kubernetes, the Vault token read from the mounted Secret', () => {
    const objects = render();
    const data = findObject(objects, 'ConfigMap').data as Record<string, string>;
    const config = loadConfig({ ...data, HOME: '/tmp' });
    assert.equal(config.runtime, 'kubernetes');
    assert.equal(config.kubernetes.chartPath, '/app/charts/fleet-agent');
    assert.equal(config.kubernetes.orchestratorNamespace, 'agent-fleet');
    assert.equal(config.kubernetes.monitoringNamespace, 'monitoring');
    assert.deepEqual(config.vault, {
      kind: 'external',
      address: 'https://vault.vault.svc:8200',
      tokenFile: '/var/run/secrets/agent-fleet/vault/token',
      agentAddress: 'https://vault.vault.svc:8200',
    });
    const pod = findObject(objects, 'Deployment').spec.template.spec;
    const mount = pod.containers[0].volumeMounts.find((entry: KubeObject) => entry.name === 'vault-token');
    assert.equal(path.join(mount.mountPath, 'token'), config.vault.kind === 'external' ? config.vault.tokenFile : '');
    assert.equal(mount.readOnly, true);
    const volume = pod.volumes.find((entry: KubeObject) => entry.name === 'vault-token');
    assert.deepEqual(volume.secret.items, [{ key: 'token', path: 'token' }]);
    assert.equal(volume.secret.defaultMode, 0o440);
    assert.equal(pod.containers[0].env.some((entry: KubeObject) => /TOKEN/.test(entry.name) && entry.valueFrom?.secretKeyRef), false, 'the token is never an env var');
  });

  test('RBAC is least privilege: no Secrets, no wildcards, no RBAC or exec rights, no cluster-admin', () => {
    const objects = render();
    const role = findObject(objects, 'ClusterRole');
    for (const rule of role.rules as KubeObject[]) {
      for (const field of ['apiGroups', 'resources', 'verbs']) {
        assert.equal((rule[field] as string[]).includes('*'), false, `wildcard in ${field}`);
      }
      assert.equal(rule.resources.includes('secrets'), false, 'no access to Secrets');
      assert.equal(rule.resources.some((resource: string) => /exec|attach|portforward|proxy|escalate|impersonate/.test(resource)), false);
      assert.equal(rule.verbs.some((verb: string) => ['escalate', 'bind', 'impersonate', 'deletecollection'].includes(verb)), false);
      assert.equal(rule.apiGroups.includes('rbac.authorization.k8s.io'), false);
    }
    const binding = findObject(objects, 'ClusterRoleBinding');
    assert.equal(binding.roleRef.name, role.metadata.name);
    assert.notEqual(binding.roleRef.name, 'cluster-admin');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'fleet-orchestrator', namespace: 'agent-fleet' }]);
    assert.equal(objects.some((object) => object.kind.endsWith('Binding') && object.roleRef?.name === 'cluster-admin'), false);
  });

  test('an admission policy confines the orchestrator’s writes to fleet-* namespaces', () => {
    const objects = render();
    const policy = findObject(objects, 'ValidatingAdmissionPolicy');
    assert.equal(policy.spec.failurePolicy, 'Fail');
    assert.equal(policy.spec.matchConditions[0].expression, "request.userInfo.username == 'system:serviceaccount:agent-fleet:fleet-orchestrator'");
    assert.match(policy.spec.validations[0].expression, /startsWith\('fleet-'\)/);
    const binding = findObject(objects, 'ValidatingAdmissionPolicyBinding');
    assert.equal(binding.spec.policyName, policy.metadata.name);
    assert.deepEqual(binding.spec.validationActions, ['Deny']);
  });

  test('a fleet-wide ServiceMonitor scrapes every agent with the client label; the orchestrator has its own', () => {
    const monitors = render().filter((object) => object.kind === 'ServiceMonitor');
    const agents = monitors.find((monitor) => monitor.metadata.name === 'fleet-orchestrator-agents');
    assert.ok(agents);
    assert.deepEqual(agents.spec.namespaceSelector, { any: true });
    assert.equal(agents.spec.selector.matchLabels['io.agentfleet.managed'], 'true');
    assert.equal(agents.spec.endpoints[0].port, 'metrics');
    assert.equal(agents.spec.endpoints[0].relabelings[0].targetLabel, 'client');
    const own = monitors.find((monitor) => monitor.metadata.name === 'fleet-orchestrator');
    assert.equal(own?.spec.endpoints[0].path, '/metrics');
    // The alert rules select these jobs; the operator would name them after the Services.
    const job = (monitor: KubeObject | undefined) => monitor?.spec.endpoints[0].relabelings.find((rule: KubeObject) => rule.targetLabel === 'job');
    assert.deepEqual(job(agents), { targetLabel: 'job', replacement: 'agents', action: 'replace' });
    assert.deepEqual(job(own), { targetLabel: 'job', replacement: 'orchestrator', action: 'replace' });
  });

  test('the orchestrator network policy admits only monitoring and the listed API clients', () => {
    const policy = findObject(render(edgeCase), 'NetworkPolicy');
    assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
    const sources = policy.spec.ingress[0].from.map((peer: KubeObject) => peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name']);
    assert.deepEqual(sources, ['observability', 'ops', 'portal']);
    assert.deepEqual(policy.spec.ingress[0].ports, [{ protocol: 'TCP', port: 7400 }]);
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['the secret Helm storage driver', { helmDriver: 'secret' }, /helmDriver/],
    ['uid 0', { user: { uid: 0, gid: 0 } }, /user\/uid/],
    ['a privileged service port', { service: { port: 80 } }, /service\/port/],
    ['an admin token that is not a sha256', { config: { logLevel: 'info', reconcileIntervalSeconds: 15, adminTokenSha256: 'letmein', agent: { memoryMiB: 128, cpus: '0.5', pidsLimit: 128, tmpfsMiB: 16, healthTimeoutSeconds: 60 } } }, /adminTokenSha256/],
    ['an unknown value (typo)', { rbca: { create: true } }, /additional properties 'rbca'/],
    ['a bad scrape interval', { monitoring: { namespace: 'monitoring', prometheusRule: { enabled: true }, serviceMonitor: { enabled: true, interval: 'often' }, agentsServiceMonitor: { enabled: true, interval: '30s' } } }, /interval/],
  ];
  for (const [name, values, message] of invalid) {
    test(`the schema rejects ${name}`, () => {
      const result = helm(['template', 'fleet-orchestrator', ORCHESTRATOR_CHART, '--namespace', 'agent-fleet'], values);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /values don't meet the specifications of the schema/);
      assert.match(result.stderr, message);
    });
  }
});
