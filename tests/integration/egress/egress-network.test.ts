// From inside a real agent container provisioned through the orchestrator: its network is internal, the
// only ways out are the egress proxy and Vault on its gateway, and the proxy refuses, counts and logs every
// request off the client's allow-list. Probes share the agent's network namespace (runNodeInNetworkOf).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { gatewayOf, parseIpv4Cidr } from '../../../orchestrator/src/domain/ipv4-cidr.ts';
import { createTcpApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenTcp } from '../../../orchestrator/src/http/listen.ts';
import { createFleetFixture, docker, runNodeInNetworkOf, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { close, waitFor } from '../../helpers/monitoring.ts';
import { connectProbeScript, runNodeOnDefaultBridge, startOutsideServer, tcpProbeScript } from './egress-probes.ts';
import { agentCall } from '../../helpers/agent-tls.ts';

describe('an agent on its internal network reaches out only through the egress proxy', () => {
  const pool = `10.217.${100 + (process.pid % 100)}.0/28`;
  const gateway = gatewayOf(parseIpv4Cidr(pool));
  let fleet: FleetFixture;
  let clientId: ClientId;
  let container: string;
  let image: string;
  let api: Server;
  const cleanups: Array<() => Promise<unknown>> = [];

  before(async () => {
    fleet = await createFleetFixture({ FLEET_SUBNET_POOL: pool, FLEET_SUBNET_PREFIX: '28' });
    clientId = uniqueClientId('eg');
    cleanups.push(() => fleet.cleanup([clientId]));
    const provisioned = await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    assert.equal(provisioned.outcome, 'provisioned');
    container = resourceNames(clientId).container;
    image = (await docker.getContainer(container).inspect()).Config.Image;
    api = await listenTcp(createTcpApp(fleet.orchestrator, fleet.orchestrator.metrics, undefined, createSilentLogger()), '127.0.0.1', 0);
    cleanups.push(() => close(api));
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  const vaultPort = () => Number(new URL(fleet.orchestrator.secretBackend.embedded!.url).port);

  test('the network is internal, nothing is published, and the agent is told the proxy and reached at its address', async () => {
    const network = await docker.getNetwork(resourceNames(clientId).network).inspect();
    assert.equal(network.Internal, true);
    const info = await docker.getContainer(container).inspect();
    assert.deepEqual(info.NetworkSettings.Ports ?? {}, {}, 'Docker publishes no port on an internal network');
    const env = Object.fromEntries(info.Config.Env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
    const proxyUrl = `http://${gateway}:${fleet.config.egress.proxyPort}`;
    assert.deepEqual(
      [env['HTTPS_PROXY'], env['HTTP_PROXY'], env['NO_PROXY'], env['NODE_USE_ENV_PROXY'], env['VAULT_ADDR']],
      [proxyUrl, proxyUrl, gateway, '1', `https://${gateway}:${vaultPort()}`],
    );
    const address = info.NetworkSettings.Networks[resourceNames(clientId).network]?.IPAddress;
    const state = await fleet.orchestrator.runtime.inspectAgent(clientId);
    assert.deepEqual(state?.endpoints, { control: `${address}:8080`, metrics: `${address}:9464` });
    assert.equal((await agentCall(fleet.orchestrator.tls.ca.certificatePem, clientId, `${address}:8080`, '/healthz')).status, 200, 'the host reaches the agent on the bridge');
  });

  test('a TCP connection from inside the agent to any address but the proxy and Vault on its gateway fails', async () => {
    const outside = await startOutsideServer(image, { 'io.agentfleet.client': clientId });
    cleanups.push(() => outside.stop());
    // Positive control: from a routed network the outside server answers.
    const routed = JSON.parse(await runNodeOnDefaultBridge(image, tcpProbeScript([{ host: outside.ip, port: outside.port }]), { 'io.agentfleet.client': clientId }));
    assert.equal(routed[`${outside.ip}:${outside.port}`], 'connected', 'the outside server is reachable from a routed network');

    const allowed = [
      { host: gateway, port: fleet.config.egress.proxyPort },
      { host: gateway, port: vaultPort() },
    ];
    const blocked = [
      { host: outside.ip, port: outside.port },
      { host: '1.1.1.1', port: 443 },
      { host: '8.8.8.8', port: 53 },
      { host: '169.254.169.254', port: 80 },
      // The orchestrator's API listens on the host's loopback, which no gateway address leads to.
      { host: gateway, port: (api.address() as AddressInfo).port },
    ];
    const outcomes = JSON.parse(await runNodeInNetworkOf(container, tcpProbeScript([...allowed, ...blocked]))) as Record<string, string>;
    for (const { host, port } of allowed) assert.equal(outcomes[`${host}:${port}`], 'connected', `${host}:${port} (${JSON.stringify(outcomes)})`);
    for (const { host, port } of blocked) assert.notEqual(outcomes[`${host}:${port}`], 'connected', `${host}:${port} must not connect (${JSON.stringify(outcomes)})`);
  });

  test('a CONNECT to a host off the list is refused, counted in /metrics and logged; so is an IP literal', async () => {
    const proxy = { host: gateway, port: fleet.config.egress.proxyPort };
    const answers = JSON.parse(
      await runNodeInNetworkOf(
        container,
        connectProbeScript(proxy, [
          'CONNECT exfil.example.com:443 HTTP/1.1\r\nHost: exfil.example.com:443\r\n\r\n',
          'CONNECT 1.1.1.1:443 HTTP/1.1\r\nHost: 1.1.1.1:443\r\n\r\n',
          'GET http://exfil.example.com/ HTTP/1.1\r\nHost: exfil.example.com\r\n\r\n',
        ]),
      ),
    ) as string[];
    assert.deepEqual(answers, ['HTTP/1.1 403 Forbidden', 'HTTP/1.1 403 Forbidden', 'HTTP/1.1 403 Forbidden']);

    const metrics = `http://127.0.0.1:${(api.address() as AddressInfo).port}/metrics`;
    const refused = await waitFor('the refusals in /metrics', 10_000, async () => {
      const text = await (await fetch(metrics)).text();
      const value = Number(new RegExp(`^fleet_egress_refused_total\\{client="${clientId}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      return value >= 3 ? value : undefined;
    });
    assert.equal(refused, 3);

    const logFile = path.join(fleet.homeDir, 'egress', 'refused.jsonl');
    const entries = await waitFor('the refusals in the proxy log', 10_000, async () => {
      const lines = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      return lines.length >= 3 ? lines : undefined;
    });
    assert.deepEqual(
      entries.map((entry) => [entry['client'], entry['host'], entry['reason']]),
      [[clientId, 'exfil.example.com', 'not_allowed'], [clientId, '1.1.1.1', 'ip_literal'], [clientId, 'exfil.example.com', 'plain_http']],
    );
    assert.ok(entries.every((entry) => typeof entry['at'] === 'string' && String(entry['source']).startsWith(pool.split('.').slice(0, 3).join('.'))));
  });
});
