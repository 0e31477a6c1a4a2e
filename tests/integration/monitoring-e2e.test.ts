// End to end on real engines: a provisioned agent in its hardened container, syncing a Gmail emulator
// served on its own network's gateway, scraped by the real Prometheus through the orchestrator's file_sd
// targets, alerting through the real Alertmanager to a local webhook. Revoked OAuth consent must page
// with the client label; healthy traffic must page nobody; the kill switch must send its notice and
// silence the client's other alerts.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { gatewayOf, parseIpv4Cidr } from '../../orchestrator/src/domain/ipv4-cidr.ts';
import { createTcpApp } from '../../orchestrator/src/http/create-apps.ts';
import { listenTcp } from '../../orchestrator/src/http/listen.ts';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import { createFleetFixture, docker, uniqueClientId, type FleetFixture } from '../helpers/fleet-fixture.ts';
import {
  MONITORING_DOWN,
  MONITORING_UP,
  assertSucceeded,
  close,
  freePort,
  getJson,
  killLeftovers,
  monitoringEnv,
  run,
  startWebhookReceiver,
  waitFor,
} from '../helpers/monitoring.ts';

type Alert = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };

describe('anomaly alerting end to end', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('revoked consent pages with the client label, healthy traffic pages nobody, and a kill notifies and inhibits', { timeout: 300_000 }, async () => {
    // A pool of one /28 of our own makes the agent's gateway known before provisioning.
    const octet = 100 + (process.pid % 100);
    const pool = `10.215.${octet}.0/28`;
    const gateway = gatewayOf(parseIpv4Cidr(pool));
    const fleet: FleetFixture = await createFleetFixture({ FLEET_SUBNET_POOL: pool, FLEET_SUBNET_PREFIX: '28' });
    const clientId = uniqueClientId('m');
    cleanups.push(() => fleet.cleanup([clientId]));

    const orchestratorServer: Server = await listenTcp(
      createTcpApp(fleet.orchestrator, fleet.orchestrator.metrics, undefined, createSilentLogger()),
      '127.0.0.1',
      0,
    );
    cleanups.push(() => close(orchestratorServer));
    const orchestratorPort = (orchestratorServer.address() as AddressInfo).port;

    const { server: webhook, port: webhookPort, calls } = await startWebhookReceiver();
    cleanups.push(() => close(webhook));

    const gmailPort = await freePort();
    const gmailBase = `http://${gateway}:${gmailPort}`;
    const config = [
      `client: ${clientId}`,
      'provider: gmail',
      'mailbox: agent@acme.example',
      'admins: [ops@acme.example]',
      'permissions: { mail.read: true, mail.draft: true, mail.label: true }',
      '',
    ].join('\n');
    const provisioned = await fleet.orchestrator.provision.provision({
      clientId,
      actor: 'test',
      configYaml: config,
      agentEnvironment: {
        AGENT_GMAIL_ROOT_URL: `${gmailBase}/`,
        AGENT_GMAIL_TOKEN_URL: `${gmailBase}/token`,
        AGENT_ANTHROPIC_BASE_URL: `http://${gateway}:${gmailPort}/anthropic`,
        AGENT_SYNC_INTERVAL_SECONDS: '5',
      },
    });
    assert.equal(provisioned.outcome, 'provisioned');

    // The mailbox the agent works in, reachable only on the client's own network and loopback.
    const gmail = new GmailEmulator({ mailbox: 'agent@acme.example' });
    await gmail.start({ host: gateway, port: gmailPort });
    cleanups.push(() => gmail.stop());
    const refreshToken = gmail.issueRefreshToken(gmailScopesFor({ 'mail.read': true, 'mail.draft': true, 'mail.label': true }));
    await fleet.orchestrator.secrets.set({
      clientId,
      name: 'gmail',
      value: JSON.stringify({ client_id: gmail.clientId, client_secret: gmail.clientSecret, refresh_token: refreshToken }),
      actor: 'test',
    });
    await fleet.orchestrator.secrets.set({ clientId, name: 'anthropic', value: 'sk-emulated-key', actor: 'test' });
    // A restart gives the agent a fresh introduction, in which it reads its new secrets.
    await docker.getContainer(`fleet-${clientId}`).kill({ signal: 'SIGKILL' });
    const report = await fleet.orchestrator.reconcile.reconcile();
    assert.ok(report.actions.some((action) => action.clientId === clientId && action.kind === 'restarted'), JSON.stringify(report));
    await waitFor('the agent to sync its mailbox', 60_000, async () =>
      gmail.requests.some((request) => request.path.includes('/gmail/v1/users/')) ? true : undefined,
    );

    // promtool accepts the live agent's exposition.
    const target = (await fleet.orchestrator.targets.list()).find((t) => t.clientId === clientId);
    assert.ok(target, 'the agent is a scrape target');
    const exposition = await (await fetch(`http://${target.address}/metrics`)).text();
    const checked = await run('bash', ['-c', 'promtool check metrics'], { timeoutMs: 30_000, stdin: exposition });
    assertSucceeded(checked, 'promtool check metrics on the live agent');

    const prometheusPort = await freePort();
    const alertmanagerPort = await freePort();
    const upEnv = monitoringEnv(
      { ...process.env, AGENT_FLEET_HOME: fleet.homeDir },
      { prometheus: prometheusPort, alertmanager: alertmanagerPort, orchestrator: orchestratorPort, webhook: webhookPort },
    );
    cleanups.push(async () => {
      await run('bash', [MONITORING_DOWN], { env: upEnv, timeoutMs: 30_000 });
      await killLeftovers(path.join(fleet.homeDir, 'monitoring'));
    });
    assertSucceeded(await run('bash', [MONITORING_UP], { env: upEnv, timeoutMs: 90_000 }), 'monitoring-up.sh');
    const prometheus = `http://127.0.0.1:${prometheusPort}`;
    const alertmanager = `http://127.0.0.1:${alertmanagerPort}`;

    type QueryResult = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    const query = (expr: string) => getJson<QueryResult>(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
    await waitFor('Prometheus to scrape the real agent with its client label', 60_000, async () =>
      (await query(`up{job="agents",client="${clientId}"}`)).data.result[0]?.value[1] === '1' ? true : undefined,
    );
    await waitFor('the agent to report a verified audit chain', 60_000, async () =>
      (await query(`agent_audit_chain_valid{client="${clientId}"}`)).data.result[0]?.value[1] === '1' ? true : undefined,
    );

    // Healthy traffic: several evaluation cycles, nothing firing for this client, nobody paged.
    await sleep(6_000);
    const quiet = await getJson<{ data: { alerts: { labels: Record<string, string>; state: string }[] } }>(`${prometheus}/api/v1/alerts`);
    assert.deepEqual(
      quiet.data.alerts.filter((alert) => alert.labels.client === clientId).map((alert) => alert.labels.alertname),
      [],
      'a healthy agent raises no alert',
    );
    assert.equal(calls.length, 0, 'a healthy agent pages nobody');

    // The anomaly: the client withdraws consent at the provider.
    gmail.revokeConsent();
    const revokedAt = Date.now();
    const page = await waitFor('a page for the revoked consent', 90_000, async () =>
      calls.find(
        (call) =>
          call.path === '/page' &&
          (call.body.alerts ?? []).some(
            (alert) => alert.status === 'firing' && alert.labels?.alertname === 'ConsentRevoked' && alert.labels.client === clientId,
          ),
      ),
    );
    assert.ok(Date.now() - revokedAt <= 90_000);
    assert.equal(page.body.receiver, 'pager');
    assert.equal(page.body.alerts?.[0]?.labels?.severity, 'critical');
    assert.match(page.body.alerts?.[0]?.annotations?.runbook_url ?? '', /runbooks\.md#consentrevoked$/);

    // The kill switch: the notice reaches ops, and the client's other alerts are inhibited.
    const killed = await fleet.orchestrator.kill.kill({ clientId, reason: 'consent revoked: stop everything', actor: 'test' });
    assert.equal(killed.containerStopped, true);
    await waitFor('the kill-switch notice', 90_000, async () =>
      calls.find(
        (call) =>
          call.path === '/ops' &&
          (call.body.alerts ?? []).some(
            (alert) => alert.status === 'firing' && alert.labels?.alertname === 'KillSwitchEngaged' && alert.labels.client === clientId,
          ),
      ),
    );
    const inhibited = await waitFor('the revoked-consent alert to be inhibited by the kill', 60_000, async () => {
      const alerts = await getJson<Alert[]>(`${alertmanager}/api/v2/alerts?filter=${encodeURIComponent(`client="${clientId}"`)}`);
      const consent = alerts.find((alert) => alert.labels.alertname === 'ConsentRevoked');
      return consent && consent.status.inhibitedBy.length > 0 ? consent : undefined;
    });
    assert.equal(inhibited.status.state, 'suppressed');
  });
});
