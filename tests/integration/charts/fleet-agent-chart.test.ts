import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { renderAgentValues } from '../../../orchestrator/src/adapters/kubernetes/render-agent-values.ts';
import { agentServiceEndpoints } from '../../../orchestrator/src/adapters/kubernetes/workload-state.ts';
import { sampleSpec, valuesOptions } from './fixtures.ts';
import { AGENT_CHART, findObject, helm, helmTemplate, type KubeObject } from './helm.ts';
import { validateKubeObject } from './kube-schemas.ts';

const minimal = { clientId: 'acme' };
/** Every optional path of the templates switched the other way, at the edges of what the schema allows. */
const edgeCase = {
  clientId: 'a1234567890123456789012345678901',
  replicas: 1,
  image: { repository: 'registry.example.com:5000/agent-fleet/agent', tag: '0.1.0', digest: `sha256:${'a'.repeat(64)}`, pullPolicy: 'Always' },
  imagePullSecrets: ['regcred'],
  user: { uid: 2147483647, gid: 1 },
  persistence: { create: false, claimName: 'custom-claim', size: '10Gi', storageClassName: 'fast.ssd' },
  runtimeClassName: 'gvisor',
  userNamespaces: { enabled: true },
  env: { LOG_LEVEL: 'debug' },
  config: 'provider: outlook\n# "quotes" and {{ braces }} stay text\n',
  networkPolicy: {
    monitoringNamespace: 'observability',
    dns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'coredns' } },
    httpsEgress: { except: [] },
    orchestrator: { enabled: false, namespace: 'agent-fleet' },
    vault: { enabled: false, namespace: 'vault', port: 8200 },
  },
  metrics: { scrapeAnnotations: false, serviceMonitor: { enabled: true, interval: '1m', labels: { release: 'kube-prometheus' } } },
};

function render(values: Record<string, unknown>): KubeObject[] {
  const namespace = `fleet-${String(values.clientId)}`;
  return helmTemplate(AGENT_CHART, namespace, namespace, values);
}

function agentContainer(objects: KubeObject[]): KubeObject {
  return findObject(objects, 'Deployment').spec.template.spec.containers.find((c: KubeObject) => c.name === 'agent');
}

describe('charts/fleet-agent', () => {
  test('helm lint passes with the minimal values and with the edge-case values', () => {
    for (const values of [minimal, edgeCase]) {
      const result = helm(['lint', AGENT_CHART, '--strict', '--namespace', `fleet-${values.clientId}`], values);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  test('helm lint fails without a client id, naming clientId', () => {
    const result = helm(['lint', AGENT_CHART, '--strict']);
    assert.notEqual(result.code, 0);
    assert.match(result.stdout + result.stderr, /clientId/);
  });

  test('every rendered object is valid against the Kubernetes and Prometheus operator schemas', () => {
    for (const values of [minimal, edgeCase]) {
      const objects = render(values);
      assert.ok(objects.length >= 5);
      for (const object of objects) validateKubeObject(object);
    }
  });

  test('the values the runtime adapter renders install the chart and pass its schema', () => {
    const values = renderAgentValues(sampleSpec(), { ...valuesOptions, replicas: 0 });
    const objects = render(values as unknown as Record<string, unknown>);
    for (const object of objects) validateKubeObject(object);
    assert.equal(findObject(objects, 'Deployment').spec.replicas, 0);
    assert.equal(objects.some((object) => object.kind === 'PersistentVolumeClaim'), false, 'the adapter owns the claim, not the release');
  });

  test('every object lives in the client namespace and carries the client labels', () => {
    for (const object of render(edgeCase)) {
      assert.equal(object.metadata.namespace, `fleet-${edgeCase.clientId}`, `${object.kind} namespace`);
      assert.equal(object.metadata.labels['io.agentfleet.client'], edgeCase.clientId, `${object.kind} client label`);
      assert.equal(object.metadata.labels['io.agentfleet.managed'], 'true', `${object.kind} managed label`);
    }
    const pod = findObject(render(minimal), 'Deployment').spec.template.metadata;
    assert.equal(pod.labels['io.agentfleet.client'], 'acme');
  });

  test('the agent is hardened: non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp', () => {
    for (const values of [minimal, edgeCase]) {
      const objects = render(values);
      const pod = findObject(objects, 'Deployment').spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.ok(pod.securityContext.runAsUser > 0);
      assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(pod.hostNetwork ?? false, false);
      assert.equal(pod.hostPID ?? false, false);
      assert.equal(pod.hostIPC ?? false, false);
      const security = agentContainer(objects).securityContext;
      assert.equal(security.runAsNonRoot, true);
      assert.equal(security.readOnlyRootFilesystem, true);
      assert.equal(security.allowPrivilegeEscalation, false);
      assert.equal(security.privileged, false);
      assert.deepEqual(security.capabilities, { drop: ['ALL'] });
      assert.equal(security.seccompProfile.type, 'RuntimeDefault');
    }
  });

  test('user namespaces and the sandbox runtime class are applied only when asked for', () => {
    const plain = findObject(render(minimal), 'Deployment').spec.template.spec;
    assert.equal(plain.hostUsers, undefined);
    assert.equal(plain.runtimeClassName, undefined);
    const edge = findObject(render(edgeCase), 'Deployment').spec.template.spec;
    assert.equal(edge.hostUsers, false);
    assert.equal(edge.runtimeClassName, 'gvisor');
  });

  test('limits, probes, volumes and config are set as the agent needs them', () => {
    const objects = render(minimal);
    const deployment = findObject(objects, 'Deployment');
    const container = agentContainer(objects);
    assert.deepEqual(container.resources.limits, { memory: '128Mi', cpu: '500m' });
    assert.ok(container.resources.requests.memory && container.resources.requests.cpu);
    assert.equal(deployment.metadata.annotations['io.agentfleet.pids-limit'], '128');
    assert.equal(deployment.spec.strategy.type, 'Recreate');
    // The control port speaks TLS only: the kubelet probes it over HTTPS.
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'control', scheme: 'HTTPS' });
    assert.deepEqual(container.startupProbe.httpGet, { path: '/healthz', port: 'control', scheme: 'HTTPS' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'control', scheme: 'HTTPS' });
    const ports = Object.fromEntries(container.ports.map((port: KubeObject) => [port.name, port.containerPort]));
    assert.deepEqual(ports, { control: 8080, metrics: 9464 });
    const env = Object.fromEntries(container.env.map((entry: KubeObject) => [entry.name, entry.value]));
    assert.equal(env.AGENT_CONFIG_PATH, '/etc/agent-fleet/config.yaml');
    const mounts = Object.fromEntries(container.volumeMounts.map((mount: KubeObject) => [mount.name, mount]));
    assert.equal(mounts.data.mountPath, '/data');
    assert.equal(mounts.config.mountPath, '/etc/agent-fleet');
    assert.equal(mounts.config.readOnly, true);
    assert.equal(mounts.tmp.mountPath, '/tmp');
    assert.equal(mounts['vault-sa-token'], undefined, 'only Vault Agent sees the service-account token');
    assert.deepEqual(mounts['placed-files'], { name: 'placed-files', mountPath: '/etc/agent-fleet-files', readOnly: true });
    assert.equal(env.AGENT_PLACED_FILES_DIR, '/etc/agent-fleet-files');
    const volumes = Object.fromEntries(deployment.spec.template.spec.volumes.map((volume: KubeObject) => [volume.name, volume]));
    assert.deepEqual(volumes.tmp.emptyDir, { medium: 'Memory', sizeLimit: '16Mi' });
    assert.equal(volumes.data.persistentVolumeClaim.claimName, 'fleet-acme-data');
    assert.deepEqual(volumes['placed-files'].configMap, { name: 'fleet-acme-files', optional: true, defaultMode: 0o440 });
    const claim = findObject(objects, 'PersistentVolumeClaim', 'fleet-acme-data');
    assert.equal(claim.metadata.annotations['helm.sh/resource-policy'], 'keep');
    const config = findObject(render(edgeCase), 'ConfigMap');
    assert.equal(config.data['config.yaml'], edgeCase.config, 'config is carried verbatim, never templated');
  });

  test('secrets come from Vault Agent Injector annotations, never from values or environment', () => {
    const objects = render(minimal);
    const annotations = findObject(objects, 'Deployment').spec.template.metadata.annotations;
    assert.equal(annotations['vault.hashicorp.com/agent-inject'], 'true');
    assert.equal(annotations['vault.hashicorp.com/role'], 'fleet-acme');
    assert.equal(annotations['vault.hashicorp.com/agent-inject-token'], 'true');
    assert.equal(annotations['vault.hashicorp.com/agent-pre-populate-only'], 'true');
    assert.equal(objects.some((object) => object.kind === 'Secret'), false);
    for (const entry of agentContainer(objects).env) {
      assert.equal(entry.valueFrom, undefined, `${entry.name} is not read from a Secret`);
      assert.doesNotMatch(entry.name, /^(VAULT_TOKEN|.*PASSWORD|.*SECRET)$/);
    }
  });

  test('the agent’s TLS identity is rendered from its client’s Vault path by Vault Agent into memory, never a Secret or a value', () => {
    const objects = render(minimal);
    const pod = findObject(objects, 'Deployment').spec.template;
    const annotations = pod.metadata.annotations;
    const path = 'fleet/data/acme/tls/agent';
    for (const [file, field] of [['tls.crt', 'certificate'], ['tls.key', 'private_key'], ['ca.crt', 'ca_certificate']]) {
      assert.equal(annotations[`vault.hashicorp.com/agent-inject-secret-${file}`], path);
      assert.equal(annotations[`vault.hashicorp.com/agent-inject-template-${file}`], `{{- with secret "${path}" -}}{{ .Data.data.${field} }}{{- end -}}`);
      assert.equal(annotations[`vault.hashicorp.com/agent-inject-perms-${file}`], '0400');
    }
    const env = Object.fromEntries(agentContainer(objects).env.map((entry: KubeObject) => [entry.name, entry.value]));
    assert.equal(env.AGENT_TLS_DIR, '/vault/secrets', 'Vault Agent’s in-memory secrets volume');
    assert.equal(env.VAULT_CACERT, undefined, 'no CA given: the image’s trust store');
    assert.equal(objects.some((object) => object.kind === 'Secret'), false);
    assert.ok(!JSON.stringify(objects).includes('PRIVATE KEY'));

    const caPem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const withCa = render({ ...minimal, vault: { address: 'https://vault.vault.svc:8200', caCertificate: caPem } });
    const config = findObject(withCa, 'ConfigMap', 'fleet-acme-config');
    assert.equal(config.data['vault-ca.crt'], caPem);
    const withCaEnv = Object.fromEntries(agentContainer(withCa).env.map((entry: KubeObject) => [entry.name, entry.value]));
    assert.equal(withCaEnv.VAULT_CACERT, '/etc/agent-fleet/vault-ca.crt');
    const volume = findObject(withCa, 'Deployment').spec.template.spec.volumes.find((entry: KubeObject) => entry.name === 'config');
    assert.deepEqual(volume.configMap.items.map((item: KubeObject) => item.path), ['config.yaml', 'vault-ca.crt']);
    const rendered = renderAgentValues(sampleSpec(), { ...valuesOptions, vault: { ...valuesOptions.vault, caCertificatePem: caPem } });
    assert.equal(rendered.vault.caCertificate, caPem, 'the runtime adapter hands VAULT_CACERT on');
    assert.equal(rendered.vault.kvMount, 'fleet');
  });

  test('the network policy denies everything but DNS, egress on 443, Vault, and ingress from monitoring (9464) and the orchestrator (8080)', () => {
    const policy = findObject(render(minimal), 'NetworkPolicy');
    assert.deepEqual(policy.spec.podSelector, {}, 'applies to every pod in the namespace');
    assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
    const ingress = policy.spec.ingress.map((rule: KubeObject) => ({
      from: rule.from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
      ports: rule.ports.map((port: KubeObject) => `${port.protocol}/${port.port}`),
    }));
    assert.deepEqual(ingress, [
      { from: 'monitoring', ports: ['TCP/9464'] },
      { from: 'agent-fleet', ports: ['TCP/8080'] },
    ]);
    const egress = policy.spec.egress.map((rule: KubeObject) => rule.ports.map((port: KubeObject) => `${port.protocol}/${port.port}`));
    assert.deepEqual(egress, [['UDP/53', 'TCP/53'], ['TCP/443'], ['TCP/8200']]);
    assert.equal(policy.spec.egress[0].to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'kube-system');
    assert.deepEqual(policy.spec.egress[1].to[0].ipBlock, { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] });
    assert.equal(policy.spec.egress[2].to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'vault');
  });

  test('with the optional rules off, only DNS, 443 and the monitoring ingress remain', () => {
    const policy = findObject(render(edgeCase), 'NetworkPolicy');
    assert.equal(policy.spec.ingress.length, 1);
    assert.deepEqual(policy.spec.ingress[0].ports, [{ protocol: 'TCP', port: 9464 }]);
    assert.equal(policy.spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'observability');
    assert.equal(policy.spec.egress.length, 2);
  });

  test('metrics are scraped through annotations or a ServiceMonitor that adds the client label', () => {
    const annotations = findObject(render(minimal), 'Deployment').spec.template.metadata.annotations;
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(annotations['prometheus.io/port'], '9464');
    const monitor = findObject(render(edgeCase), 'ServiceMonitor');
    assert.equal(monitor.metadata.labels.release, 'kube-prometheus');
    assert.deepEqual(monitor.spec.endpoints[0].relabelings[0], {
      sourceLabels: ['__meta_kubernetes_pod_label_io_agentfleet_client'],
      targetLabel: 'client',
      action: 'replace',
    });
    assert.deepEqual(monitor.spec.endpoints[0].relabelings[1], { targetLabel: 'job', replacement: 'agents', action: 'replace' }, 'the job the alert rules select');
  });

  test('the Service is the address the runtime reports: fleet-<id> in fleet-<id>, headless, reachable before the agent is ready', () => {
    const objects = render(minimal);
    const service = findObject(objects, 'Service');
    const endpoints = agentServiceEndpoints(parseClientId('acme'));
    assert.equal(`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`, endpoints.control.split(':')[0]);
    const port = (name: string) => service.spec.ports.find((entry: KubeObject) => entry.name === name)?.port;
    assert.equal(`${endpoints.control.split(':')[0]}:${port('control')}`, endpoints.control);
    assert.equal(`${endpoints.metrics.split(':')[0]}:${port('metrics')}`, endpoints.metrics);
    // The introduction is what makes the agent ready: its control API must answer before that.
    assert.equal(service.spec.clusterIP, 'None');
    assert.equal(service.spec.publishNotReadyAddresses, true);
  });

  test('installing into a namespace other than fleet-<clientId> fails', () => {
    const result = helm(['template', 'fleet-acme', AGENT_CHART, '--namespace', 'default'], minimal);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /namespace must be fleet-acme/);
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an upper-case client id', { clientId: 'Acme' }, /clientId/],
    ['a client id with a double hyphen', { clientId: 'a--b' }, /clientId/],
    ['two replicas', { ...minimal, replicas: 2 }, /replicas/],
    ['uid 0', { ...minimal, user: { uid: 0, gid: 0 } }, /user\/uid/],
    ['a memory limit that is not a quantity', { ...minimal, resources: { limits: { memory: 'lots', cpu: '1' }, requests: { memory: '1Mi', cpu: '1m' } } }, /resources\/limits\/memory/],
    ['a secret-looking environment variable', { ...minimal, env: { GMAIL_API_KEY: 'x' } }, /GMAIL_API_KEY/],
    ['overriding the config path through env', { ...minimal, env: { AGENT_CONFIG_PATH: '/x' } }, /AGENT_CONFIG_PATH/],
    ['an unknown value (typo)', { ...minimal, replica: 1 }, /additional properties 'replica'/],
    ['a bad egress CIDR', { ...minimal, networkPolicy: { monitoringNamespace: 'monitoring', dns: { namespace: 'kube-system', podLabels: { a: 'b' } }, httpsEgress: { except: ['10.0.0.0/33'] }, orchestrator: { enabled: true, namespace: 'x' }, vault: { enabled: true, namespace: 'v', port: 8200 } } }, /httpsEgress\/except/],
    ['a non-https-or-http Vault address', { ...minimal, vault: { address: 'file:///etc/passwd' } }, /vault/],
  ];
  for (const [name, values, message] of invalid) {
    test(`the schema rejects ${name}`, () => {
      // A valid release name and namespace, so only the values can be what helm rejects.
      const result = helm(['template', 'fleet-acme', AGENT_CHART, '--namespace', 'fleet-acme'], values);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /values don't meet the specifications of the schema/);
      assert.match(result.stderr, message);
    });
  }
});
