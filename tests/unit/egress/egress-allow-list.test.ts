import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { buildAgentContainerOptions, egressEnvironment } from '../../../orchestrator/src/adapters/docker/agent-container-options.ts';
import { parseConnectTarget } from '../../../orchestrator/src/adapters/egress-proxy/connect-target.ts';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import {
  decideEgress,
  egressAllowListFor,
  findEgressRule,
  parseEgressRule,
  providerEgressRules,
  type EgressRule,
} from '../../../orchestrator/src/domain/egress-allow-list.ts';

function config(fields: Record<string, unknown>) {
  const parsed = parseClientConfig({ client: 'acme', ...fields });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}
const hosts = (rules: readonly EgressRule[]) => rules.map((rule) => `${rule.host}:${rule.port}`);

void test('a Gmail client on the defaults reaches Google token, Gmail and Calendar (read by default) and Anthropic, on 443 only', () => {
  assert.deepEqual(hosts(providerEgressRules(config({}))), [
    'oauth2.googleapis.com:443',
    'gmail.googleapis.com:443',
    'www.googleapis.com:443',
    'api.anthropic.com:443',
  ]);
});

void test('without a calendar capability the Calendar API host is not on the list', () => {
  const rules = providerEgressRules(config({ permissions: { 'mail.read': true, 'mail.draft': true } }));
  assert.deepEqual(hosts(rules), ['oauth2.googleapis.com:443', 'gmail.googleapis.com:443', 'api.anthropic.com:443']);
});

void test('signed Gmail pushes add the host of Google\'s signing keys even without a calendar capability', () => {
  const rules = providerEgressRules(
    config({
      permissions: { 'mail.read': true, 'mail.draft': true },
      mailbox: 'dana@acme.example',
      push: { gmailTopic: 'projects/acme-mail/topics/inbox', gmailPushOidc: { serviceAccount: 'push@acme-mail.iam.gserviceaccount.com', audience: 'https://agents.acme.example/push' } },
    }),
  );
  assert.deepEqual(hosts(rules), ['oauth2.googleapis.com:443', 'gmail.googleapis.com:443', 'www.googleapis.com:443', 'api.anthropic.com:443']);
});

void test('an Outlook client reaches the Microsoft identity platform and Graph, never a Google host', () => {
  const rules = providerEgressRules(config({ provider: 'outlook' }));
  assert.deepEqual(hosts(rules), ['login.microsoftonline.com:443', 'graph.microsoft.com:443', 'api.anthropic.com:443']);
});

void test('a CRM capability adds the Bullhorn hosts of every data center, and only then', () => {
  const withCrm = egressAllowListFor(config({ permissions: { 'mail.read': true, 'crm.read': true } }));
  for (const host of ['auth.bullhornstaffing.com', 'auth-emea.bullhornstaffing.com', 'rest.bullhornstaffing.com', 'rest91.bullhornstaffing.com']) {
    assert.ok(findEgressRule(withCrm, host, 443), `${host} is reachable`);
  }
  assert.equal(findEgressRule(withCrm, 'bullhornstaffing.com.evil.example', 443), null);
  assert.equal(findEgressRule(egressAllowListFor(config({})), 'rest.bullhornstaffing.com', 443), null);
});

void test('the extra hosts come after the provider hosts, duplicates once', () => {
  const list = egressAllowListFor(config({ provider: 'outlook' }), [parseEgressRule('graph.microsoft.com'), parseEgressRule('localhost:8025')]);
  assert.deepEqual(hosts(list).slice(-2), ['api.anthropic.com:443', 'localhost:8025']);
  assert.equal(list.filter((rule) => rule.host === 'graph.microsoft.com').length, 1);
});

void test('rules parse host, host:port, wildcard and IP literals, and refuse anything else by name', () => {
  assert.deepEqual(parseEgressRule('Gmail.GoogleAPIs.com.'), { host: 'gmail.googleapis.com', port: 443 });
  assert.deepEqual(parseEgressRule('*.example.com:8443'), { host: '*.example.com', port: 8443 });
  assert.deepEqual(parseEgressRule('10.0.0.7:8080'), { host: '10.0.0.7', port: 8080 });
  assert.deepEqual(parseEgressRule('[::1]:9000'), { host: '::1', port: 9000 });
  for (const bad of ['', 'http://x.example', 'x.example:0', 'x.example:70000', '*.10.0.0.1', 'under_score.example', '::1', '[host.example]:1', 'a b.example']) {
    assert.throws(() => parseEgressRule(bad), /egress host .* must be host\[:port\]/, JSON.stringify(bad));
  }
});

void test('a wildcard admits names strictly below its domain, and a rule admits only its own port', () => {
  const list = [parseEgressRule('*.example.com'), parseEgressRule('api.example.org:8443')];
  assert.ok(findEgressRule(list, 'a.b.example.com', 443));
  assert.equal(findEgressRule(list, 'example.com', 443), null, 'the domain itself is not below it');
  assert.equal(findEgressRule(list, 'badexample.com', 443), null);
  assert.equal(findEgressRule(list, 'a.example.com', 80), null);
  assert.ok(findEgressRule(list, 'API.example.org.', 8443), 'case and a trailing dot do not matter');
  assert.equal(findEgressRule(list, 'api.example.org', 443), null);
});

void test('an IP literal is refused as such unless that very literal is listed', () => {
  const list = egressAllowListFor(config({}), [parseEgressRule('10.1.2.3:8443')]);
  assert.deepEqual(decideEgress(list, { host: '142.250.1.1', port: 443 }), { allow: false, reason: 'ip_literal' });
  assert.deepEqual(decideEgress(list, { host: 'example.com', port: 443 }), { allow: false, reason: 'not_allowed' });
  assert.equal(decideEgress(list, { host: '10.1.2.3', port: 8443 }).allow, true);
  assert.equal(decideEgress(list, { host: 'gmail.googleapis.com', port: 443 }).allow, true);
});

void test('CONNECT targets are authority-form with a port; anything else is not parsed', () => {
  assert.deepEqual(parseConnectTarget('gmail.googleapis.com:443'), { host: 'gmail.googleapis.com', port: 443 });
  assert.deepEqual(parseConnectTarget('[2001:db8::1]:443'), { host: '2001:db8::1', port: 443 });
  assert.deepEqual(parseConnectTarget('10.0.0.1:8080'), { host: '10.0.0.1', port: 8080 });
  for (const bad of ['gmail.googleapis.com', 'https://gmail.googleapis.com/', '/path', 'host:0', 'host:99999', '2001:db8::1:443', '[host.example]:443', 'a_b.example:443', `${'a'.repeat(300)}.example:443`]) {
    assert.equal(parseConnectTarget(bad), null, bad);
  }
});

void test('an agent on an internal network gets the proxy in both spellings, its gateway unproxied, and NODE_USE_ENV_PROXY', () => {
  const env = egressEnvironment({ proxyUrl: 'http://10.213.0.1:7402', gateway: '10.213.0.1' });
  assert.deepEqual(env, {
    HTTPS_PROXY: 'http://10.213.0.1:7402',
    HTTP_PROXY: 'http://10.213.0.1:7402',
    NO_PROXY: '10.213.0.1',
    https_proxy: 'http://10.213.0.1:7402',
    http_proxy: 'http://10.213.0.1:7402',
    no_proxy: '10.213.0.1',
    NODE_USE_ENV_PROXY: '1',
  });
  const spec = {
    clientId: parseClientId('acme'),
    image: 'agent-fleet/agent:0.1.0',
    configYaml: '',
    environment: { LOG_LEVEL: 'info', HTTPS_PROXY: 'http://elsewhere.example:3128' },
    limits: { memoryBytes: 1, nanoCpus: 1, pids: 16, tmpfsBytes: 1 },
    hostPorts: { control: 0, metrics: 0 },
    user: '10001:10001',
  };
  const options = buildAgentContainerOptions(spec, { proxyUrl: 'http://10.213.0.1:7402', gateway: '10.213.0.1' });
  assert.ok(options.Env?.includes('HTTPS_PROXY=http://10.213.0.1:7402'), 'the spec cannot point the agent at another proxy');
  assert.ok(!options.Env?.some((entry) => entry.includes('elsewhere')));
  assert.deepEqual(buildAgentContainerOptions(spec).Env, ['LOG_LEVEL=info', 'HTTPS_PROXY=http://elsewhere.example:3128'], 'open networks: no proxy added');
});

void test('the egress settings: proxy by default on port 7402, the host firewall on, extra hosts checked, an external Vault needs open networks', () => {
  const defaults = loadConfig({ AGENT_FLEET_HOME: '/tmp/fleet-egress' }).egress;
  assert.deepEqual(defaults, { mode: 'proxy', proxyPort: 7402, extraRules: [], refusalLogFile: '/tmp/fleet-egress/egress/refused.jsonl', hostFirewall: true });
  assert.equal(loadConfig({ FLEET_HOST_FIREWALL: 'off' }).egress.hostFirewall, false);
  assert.throws(() => loadConfig({ FLEET_HOST_FIREWALL: 'yes' }), /FLEET_HOST_FIREWALL: must be on or off/);
  const set = loadConfig({ AGENT_FLEET_HOME: '/h', FLEET_EGRESS_EXTRA_HOSTS: 'localhost:8025, *.example.com', FLEET_EGRESS_PROXY_PORT: '7500' }).egress;
  assert.deepEqual(set.extraRules, [{ host: 'localhost', port: 8025 }, { host: '*.example.com', port: 443 }]);
  assert.equal(set.proxyPort, 7500);
  assert.throws(() => loadConfig({ FLEET_EGRESS_EXTRA_HOSTS: 'http://x.example' }), /FLEET_EGRESS_EXTRA_HOSTS: must be host\[:port\]/);
  assert.throws(() => loadConfig({ FLEET_AGENT_EGRESS: 'closed' }), /FLEET_AGENT_EGRESS: must be proxy or open/);
  assert.throws(() => loadConfig({ FLEET_EGRESS_PROXY_PORT: '7401' }), /FLEET_EGRESS_PROXY_PORT: must differ from EMBEDDED_VAULT_PORT/);
  const vault = { VAULT_ADDR: 'https://vault.example:8200', VAULT_TOKEN_FILE: '/run/token' };
  assert.throws(() => loadConfig(vault), /FLEET_AGENT_EGRESS: proxy keeps agents on internal networks/);
  assert.equal(loadConfig({ ...vault, FLEET_AGENT_EGRESS: 'open' }).egress.mode, 'open');
});
