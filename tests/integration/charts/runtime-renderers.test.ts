import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientLabels, parseClientId, resourceNames } from '@agent-fleet/kernel/client-id';
import { buildAgentContainerOptions } from '../../../orchestrator/src/adapters/docker/agent-container-options.ts';
import { defaultDenyNetworkPolicyManifest, clientNamespaceManifest } from '../../../orchestrator/src/adapters/kubernetes/client-namespace-manifests.ts';
import { renderAgentValues, SECRET_LIKE_ENV_NAME } from '../../../orchestrator/src/adapters/kubernetes/render-agent-values.ts';
import type { AgentWorkloadSpec } from '../../../orchestrator/src/ports/container-runtime.ts';
import { MIB, sampleSpec, valuesOptions } from './fixtures.ts';
import { AGENT_CHART, findObject, helmTemplate, quantityToBytes, quantityToNanoCpus, type KubeObject } from './helm.ts';

/** What each runtime's rendered workload guarantees, read the same way from both outputs. */
interface WorkloadView {
  uid: number;
  nonRootEnforced: boolean;
  readOnlyRoot: boolean;
  noPrivilegeEscalation: boolean;
  capabilitiesDropped: string[];
  capabilitiesAdded: string[];
  privileged: boolean;
  memoryBytes: number;
  nanoCpus: number;
  pids: number;
  tmpBytes: number;
  tmpInMemory: boolean;
  dataVolumes: string[];
  hostMounts: string[];
  labels: Record<string, string>;
  isolation: { ownBoundary: string; defaultDeny: boolean };
  env: Record<string, string>;
  serialized: string;
}

function dockerView(spec: AgentWorkloadSpec): WorkloadView {
  const options = buildAgentContainerOptions(spec);
  const host = options.HostConfig ?? {};
  const tmp = host.Tmpfs?.['/tmp'] ?? '';
  const mounts = host.Mounts ?? [];
  return {
    uid: Number((options.User ?? '0').split(':')[0]),
    nonRootEnforced: Number((options.User ?? '0').split(':')[0]) > 0,
    readOnlyRoot: host.ReadonlyRootfs === true,
    noPrivilegeEscalation: (host.SecurityOpt ?? []).includes('no-new-privileges:true'),
    capabilitiesDropped: host.CapDrop ?? [],
    capabilitiesAdded: host.CapAdd ?? [],
    privileged: host.Privileged === true,
    memoryBytes: host.MemorySwap === host.Memory ? (host.Memory ?? 0) : -1,
    nanoCpus: host.NanoCpus ?? 0,
    pids: host.PidsLimit ?? 0,
    tmpBytes: Number(/size=(\d+)/.exec(tmp)?.[1] ?? 0),
    tmpInMemory: tmp !== '',
    dataVolumes: mounts.filter((mount) => mount.Type === 'volume').map((mount) => mount.Source ?? ''),
    hostMounts: [
      ...mounts.filter((mount) => mount.Type === 'bind').map((mount) => mount.Source ?? ''),
      ...(host.Binds ?? []),
    ],
    labels: options.Labels ?? {},
    isolation: { ownBoundary: host.NetworkMode ?? '', defaultDeny: host.NetworkMode !== 'host' && host.NetworkMode !== 'bridge' },
    env: Object.fromEntries((options.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)])),
    serialized: JSON.stringify(options),
  };
}

function kubernetesView(spec: AgentWorkloadSpec): WorkloadView {
  const names = resourceNames(spec.clientId);
  const objects = helmTemplate(AGENT_CHART, names.helmRelease, names.namespace, renderAgentValues(spec, valuesOptions));
  const deployment = findObject(objects, 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((candidate: KubeObject) => candidate.name === 'agent');
  const volumes: KubeObject[] = pod.volumes;
  const tmp = volumes.find((volume) => volume.name === 'tmp')?.emptyDir ?? {};
  // The namespace's own deny-all (applied by ensureNetwork) and the release's policy both close it.
  const policies = [defaultDenyNetworkPolicyManifest(spec.clientId), ...objects.filter((object) => object.kind === 'NetworkPolicy')];
  const denies = policies.every(
    (policy) =>
      policy.metadata.namespace === names.namespace &&
      JSON.stringify(policy.spec?.podSelector) === '{}' &&
      JSON.stringify(policy.spec?.policyTypes) === JSON.stringify(['Ingress', 'Egress']),
  );
  return {
    uid: container.securityContext.runAsUser,
    nonRootEnforced: container.securityContext.runAsNonRoot === true && pod.securityContext.runAsNonRoot === true,
    readOnlyRoot: container.securityContext.readOnlyRootFilesystem === true,
    noPrivilegeEscalation: container.securityContext.allowPrivilegeEscalation === false,
    capabilitiesDropped: container.securityContext.capabilities?.drop ?? [],
    capabilitiesAdded: container.securityContext.capabilities?.add ?? [],
    privileged: container.securityContext.privileged === true,
    memoryBytes: quantityToBytes(container.resources.limits.memory),
    nanoCpus: quantityToNanoCpus(container.resources.limits.cpu),
    pids: Number(deployment.spec.template.metadata.annotations['io.agentfleet.pids-limit']),
    tmpBytes: quantityToBytes(tmp.sizeLimit ?? '0'),
    tmpInMemory: tmp.medium === 'Memory',
    dataVolumes: volumes.filter((volume) => volume.persistentVolumeClaim).map((volume) => volume.persistentVolumeClaim.claimName),
    hostMounts: volumes.filter((volume) => volume.hostPath).map((volume) => volume.hostPath.path),
    labels: { ...deployment.metadata.labels, ...clientNamespaceManifest(spec.clientId).metadata.labels },
    isolation: {
      ownBoundary: objects.every((object) => object.metadata.namespace === names.namespace) ? names.namespace : 'shared',
      defaultDeny: denies && policies.length >= 2,
    },
    env: Object.fromEntries(container.env.map((entry: KubeObject) => [entry.name, entry.value ?? `<from ${JSON.stringify(entry.valueFrom)}>`])),
    serialized: JSON.stringify(objects),
  };
}

const specs: Array<[string, AgentWorkloadSpec]> = [
  ['the provisioner defaults', sampleSpec()],
  [
    'another client with other limits',
    sampleSpec({
      clientId: parseClientId('globex-2'),
      user: '20002:20003',
      limits: { memoryBytes: 300 * MIB, nanoCpus: 1_250_000_000, pids: 64, tmpfsBytes: 8 * MIB },
      environment: { AGENT_VERSION: '9.9.9', LOG_LEVEL: 'debug', FEATURE_FLAGS: 'calendar' },
    }),
  ],
];
const renderers: Array<[string, (spec: AgentWorkloadSpec) => WorkloadView]> = [
  ['docker', dockerView],
  ['kubernetes', kubernetesView],
];

for (const [runtime, view] of renderers) {
  for (const [specName, spec] of specs) {
    describe(`${runtime} renderer guarantees (${specName})`, () => {
      const rendered = view(spec);
      const expectedUid = Number(spec.user.split(':')[0]);

      test('the agent runs as the non-root user of the spec', () => {
        assert.equal(rendered.uid, expectedUid);
        assert.ok(rendered.uid > 0);
        assert.equal(rendered.nonRootEnforced, true);
      });

      test('the root filesystem is read-only and /tmp is a size-limited memory filesystem', () => {
        assert.equal(rendered.readOnlyRoot, true);
        assert.equal(rendered.tmpInMemory, true);
        assert.equal(rendered.tmpBytes, spec.limits.tmpfsBytes);
      });

      test('privileges cannot grow: no escalation, every capability dropped, none added, not privileged', () => {
        assert.equal(rendered.noPrivilegeEscalation, true);
        assert.deepEqual(rendered.capabilitiesDropped, ['ALL']);
        assert.deepEqual(rendered.capabilitiesAdded, []);
        assert.equal(rendered.privileged, false);
      });

      test('memory, CPU and process limits are those of the spec', () => {
        assert.equal(rendered.memoryBytes, spec.limits.memoryBytes);
        assert.equal(rendered.nanoCpus, spec.limits.nanoCpus);
        assert.equal(rendered.pids, spec.limits.pids);
      });

      test("only the client's own volume is mounted and nothing from the host", () => {
        assert.deepEqual(rendered.dataVolumes, [resourceNames(spec.clientId).volume]);
        assert.deepEqual(rendered.hostMounts, []);
        assert.doesNotMatch(rendered.serialized, /docker\.sock/);
      });

      test("the workload carries the client's labels", () => {
        for (const [key, value] of Object.entries(clientLabels(spec.clientId))) assert.equal(rendered.labels[key], value, key);
      });

      test("the client is isolated in its own network boundary that denies by default", () => {
        assert.equal(rendered.isolation.ownBoundary, `fleet-${spec.clientId}`);
        assert.equal(rendered.isolation.defaultDeny, true);
      });

      test('no secret reaches the environment: names, values and token shapes', () => {
        for (const [name, value] of Object.entries(spec.environment)) assert.equal(rendered.env[name], value);
        for (const name of Object.keys(rendered.env)) assert.doesNotMatch(name, SECRET_LIKE_ENV_NAME, name);
        assert.doesNotMatch(rendered.serialized, /\b(hvs|hvb|s)\.[A-Za-z0-9_-]{20,}/);
        assert.doesNotMatch(Object.values(rendered.env).join('\n'), /provider: gmail/, 'the client config is not passed through the environment');
      });
    });
  }
}

describe('kubernetes renderer refusals', () => {
  test('a secret-looking environment variable is refused before anything is rendered', () => {
    assert.throws(() => renderAgentValues(sampleSpec({ environment: { GMAIL_REFRESH_TOKEN: 'x' } }), valuesOptions), {
      name: 'FleetError',
      code: 'invalid_input',
      message: /looks like a secret/,
    });
  });

  test('a root user is refused', () => {
    assert.throws(() => renderAgentValues(sampleSpec({ user: '0:0' }), valuesOptions), { code: 'invalid_input', message: /non-root/ });
  });

  test('a sandbox runtime without a configured RuntimeClass is refused; with one it is used', () => {
    assert.throws(() => renderAgentValues(sampleSpec({ ociRuntime: 'runsc' }), valuesOptions), { code: 'invalid_input', message: /RuntimeClass/ });
    const values = renderAgentValues(sampleSpec({ ociRuntime: 'runsc' }), { ...valuesOptions, runtimeClasses: { runsc: 'gvisor' } });
    assert.equal(values.runtimeClassName, 'gvisor');
  });

  test('image references with registry ports and digests are split correctly', () => {
    const digest = `sha256:${'e'.repeat(64)}`;
    const values = renderAgentValues(sampleSpec({ image: `registry.local:5000/fleet/agent:1.2.3@${digest}` }), valuesOptions);
    assert.deepEqual(values.image, { repository: 'registry.local:5000/fleet/agent', tag: '1.2.3', digest, pullPolicy: 'IfNotPresent' });
    assert.equal(renderAgentValues(sampleSpec({ image: 'registry.local:5000/agent' }), valuesOptions).image.tag, 'latest');
  });
});
