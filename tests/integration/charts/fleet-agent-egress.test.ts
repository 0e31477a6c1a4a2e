// The fleet-agent chart's egress modes: TCP 443 anywhere (the default), only the allow-listing egress
// proxy, or only the client's allow-listed host names through a CiliumNetworkPolicy (fqdn).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { egressAllowListFor, fqdnAllowHosts } from '../../../orchestrator/src/domain/egress-allow-list.ts';
import { AGENT_CHART, findObject, helm, helmTemplate, type KubeObject } from './helm.ts';
import { validateKubeObject } from './kube-schemas.ts';

const PROXY = { url: 'http://fleet-egress.agent-fleet.svc:7402', namespace: 'agent-fleet', podLabels: { 'app.kubernetes.io/name': 'fleet-egress-proxy' }, port: 7402 };

function hostsOf(fields: Record<string, unknown>): string[] {
  const parsed = parseClientConfig({ client: 'acme', ...fields });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return fqdnAllowHosts(egressAllowListFor(parsed.config));
}

function render(egress: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject[] {
  return helmTemplate(AGENT_CHART, 'fleet-acme', 'fleet-acme', { clientId: 'acme', networkPolicy: { egress }, ...extra });
}

const egressPorts = (policy: KubeObject) =>
  policy.spec.egress.map((rule: KubeObject) => rule.ports.map((port: KubeObject) => `${port.protocol}/${port.port}`).join(','));
const envOf = (objects: KubeObject[]) =>
  Object.fromEntries(
    findObject(objects, 'Deployment')
      .spec.template.spec.containers.find((c: KubeObject) => c.name === 'agent')
      .env.map((entry: KubeObject) => [entry.name, entry.value]),
  );

describe('charts/fleet-agent egress', () => {
  test('by default the agent may reach TCP 443 anywhere but the metadata endpoint, with no proxy and no FQDN policy', () => {
    const objects = helmTemplate(AGENT_CHART, 'fleet-acme', 'fleet-acme', { clientId: 'acme' });
    assert.deepEqual(egressPorts(findObject(objects, 'NetworkPolicy')), ['UDP/53,TCP/53', 'TCP/443', 'TCP/8200']);
    assert.equal(objects.some((object) => object.kind === 'CiliumNetworkPolicy'), false);
    assert.equal(envOf(objects)['HTTPS_PROXY'], undefined);
  });

  test('mode proxy: the only way out is the proxy, which the agent is told; Vault stays direct', () => {
    const objects = render({ mode: 'proxy', proxy: PROXY });
    for (const object of objects) validateKubeObject(object);
    const policy = findObject(objects, 'NetworkPolicy');
    assert.deepEqual(egressPorts(policy), ['UDP/53,TCP/53', 'TCP/7402', 'TCP/8200']);
    assert.ok(!JSON.stringify(policy.spec.egress).includes('0.0.0.0/0'), 'no rule to any address');
    const toProxy = policy.spec.egress[1].to[0];
    assert.equal(toProxy.namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'agent-fleet');
    assert.deepEqual(toProxy.podSelector.matchLabels, { 'app.kubernetes.io/name': 'fleet-egress-proxy' });
    const env = envOf(objects);
    for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) assert.equal(env[name], PROXY.url, name);
    assert.equal(env['NO_PROXY'], 'vault.vault.svc');
    assert.equal(env['no_proxy'], 'vault.vault.svc');
    assert.equal(env['NODE_USE_ENV_PROXY'], '1');
    assert.equal(objects.some((object) => object.kind === 'CiliumNetworkPolicy'), false);
  });

  test('mode fqdn: 443 only to the hosts the client config needs, by name, with DNS through the Cilium proxy', () => {
    const allowHosts = hostsOf({ provider: 'gmail', permissions: { 'mail.read': true, 'crm.read': true } });
    assert.deepEqual(allowHosts, ['oauth2.googleapis.com', 'gmail.googleapis.com', 'api.anthropic.com', '*.bullhornstaffing.com']);
    const objects = render({ mode: 'fqdn', allowHosts });
    for (const object of objects.filter((o) => o.kind !== 'CiliumNetworkPolicy')) validateKubeObject(object);
    assert.deepEqual(egressPorts(findObject(objects, 'NetworkPolicy')), ['UDP/53,TCP/53', 'TCP/8200'], 'the 443 rule is the FQDN policy');
    const cilium = findObject(objects, 'CiliumNetworkPolicy', 'fleet-acme-egress');
    assert.equal(cilium.apiVersion, 'cilium.io/v2');
    assert.equal(cilium.metadata.namespace, 'fleet-acme');
    assert.equal(cilium.metadata.labels['io.agentfleet.client'], 'acme');
    assert.deepEqual(cilium.spec.endpointSelector, {});
    const [dns, fqdn] = cilium.spec.egress;
    assert.deepEqual(dns.toEndpoints[0].matchLabels, { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' });
    assert.deepEqual(dns.toPorts[0].rules.dns, [{ matchPattern: '*' }]);
    assert.deepEqual(fqdn.toFQDNs, [
      { matchName: 'oauth2.googleapis.com' },
      { matchName: 'gmail.googleapis.com' },
      { matchName: 'api.anthropic.com' },
      { matchPattern: '*.bullhornstaffing.com' },
    ]);
    assert.deepEqual(fqdn.toPorts, [{ ports: [{ port: '443', protocol: 'TCP' }] }]);
    assert.equal(cilium.spec.egress.length, 2, 'in-cluster Vault: allowed by the NetworkPolicy, not by name');
  });

  test('mode fqdn with Vault outside the cluster reaches Vault by its name and port', () => {
    const objects = render(
      { mode: 'fqdn', allowHosts: ['graph.microsoft.com'] },
      { vault: { address: 'https://vault.example.com:8200' }, networkPolicy: { egress: { mode: 'fqdn', allowHosts: ['graph.microsoft.com'] }, vault: { enabled: false, namespace: 'vault', port: 8200 } } },
    );
    const cilium = findObject(objects, 'CiliumNetworkPolicy');
    assert.deepEqual(cilium.spec.egress[2], { toFQDNs: [{ matchName: 'vault.example.com' }], toPorts: [{ ports: [{ port: '8200', protocol: 'TCP' }] }] });
  });

  test('helm lint passes in each mode', () => {
    for (const egress of [{ mode: 'proxy', proxy: PROXY }, { mode: 'fqdn', allowHosts: ['api.anthropic.com'] }]) {
      const result = helm(['lint', AGENT_CHART, '--strict', '--namespace', 'fleet-acme'], { clientId: 'acme', networkPolicy: { egress } });
      assert.equal(result.code, 0, result.stdout + result.stderr);
    }
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown mode', { clientId: 'acme', networkPolicy: { egress: { mode: 'open' } } }, /egress\/mode/],
    ['mode proxy without a proxy URL', { clientId: 'acme', networkPolicy: { egress: { mode: 'proxy' } } }, /egress\/proxy\/url/],
    ['mode fqdn without hosts', { clientId: 'acme', networkPolicy: { egress: { mode: 'fqdn' } } }, /egress\/allowHosts/],
    ['an allowed host that is a URL', { clientId: 'acme', networkPolicy: { egress: { mode: 'fqdn', allowHosts: ['https://x.example'] } } }, /egress\/allowHosts/],
    ['a proxy variable set through env', { clientId: 'acme', env: { HTTPS_PROXY: 'http://elsewhere.example:3128' } }, /HTTPS_PROXY/],
  ];
  for (const [name, values, message] of invalid) {
    test(`the schema rejects ${name}`, () => {
      const result = helm(['template', 'fleet-acme', AGENT_CHART, '--namespace', 'fleet-acme'], values);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /values don't meet the specifications of the schema/);
      assert.match(result.stderr, message);
    });
  }

  test('mode proxy with Vault outside the cluster fails: the Vault client cannot tunnel', () => {
    const values = { clientId: 'acme', networkPolicy: { egress: { mode: 'proxy', proxy: PROXY }, vault: { enabled: false, namespace: 'vault', port: 8200 } } };
    const result = helm(['template', 'fleet-acme', AGENT_CHART, '--namespace', 'fleet-acme'], values);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /networkPolicy.egress.mode proxy needs an in-cluster Vault/);
  });
});
