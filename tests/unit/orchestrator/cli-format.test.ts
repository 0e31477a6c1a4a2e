import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { formatApprovalDecided } from '../../../orchestrator/src/cli/format/approvals.ts';
import { formatAuditVerification } from '../../../orchestrator/src/cli/format/audit.ts';
import {
  formatClientList,
  formatClientStatus,
  formatDeprovisioned,
  formatProvisionResult,
  formatReconcileReport,
} from '../../../orchestrator/src/cli/format/clients.ts';
import {
  formatKilled,
  formatResumed,
  formatRevived,
  formatRotated,
} from '../../../orchestrator/src/cli/format/kill-switch.ts';
import { formatOpsLog, formatOpsLogVerification } from '../../../orchestrator/src/cli/format/ops-log.ts';
import {
  formatMailboxConnected,
  formatSecretList,
  formatSecretStored,
} from '../../../orchestrator/src/cli/format/secrets.ts';
import { formatMonitoring, formatServiceState } from '../../../orchestrator/src/cli/format/service.ts';
import {
  formatSupportGrants,
  formatSupportRequested,
  formatSupportRevoked,
} from '../../../orchestrator/src/cli/format/support.ts';
import type { ClientDescription } from '../../../orchestrator/src/services/describe-client.ts';
import type { SupportGrant } from '../../../orchestrator/src/services/support-access.ts';
import { runningAgent } from '../../helpers/running-agent.ts';

const acme = parseClientId('acme');

describe('fleet CLI formatters (the human output; --json prints the value itself)', () => {
  test('provision: the addresses and total time, or that the client is already active', () => {
    const text = formatProvisionResult(
      {
        outcome: 'provisioned',
        clientId: acme,
        runtime: 'docker',
        controlAddress: '127.0.0.1:4001',
        metricsAddress: '127.0.0.1:4002',
        subnet: '10.213.0.0/28',
        steps: [
          { step: 'network', durationMs: 120 },
          { step: 'container', durationMs: 1130.4 },
        ],
        warnings: [],
      },
      '/home/ops/.agent-fleet/portal/fleet-ca/ca.crt',
    );
    assert.equal(
      text,
      [
        'acme is active on docker (1.25 s).',
        '  health:   curl -s --cacert /home/ops/.agent-fleet/portal/fleet-ca/ca.crt --resolve acme.agents.fleet.internal:4001:127.0.0.1 https://acme.agents.fleet.internal:4001/healthz',
        '  metrics:  curl -s http://127.0.0.1:4002/metrics',
        '  status:   make status CLIENT=acme   (or: npm run fleet -- status acme)',
      ].join('\n'),
    );
    assert.equal(
      formatProvisionResult({ outcome: 'already-active', clientId: acme }, 'ca.crt'),
      'acme is already active: nothing to do.',
    );
  });

  test('status: registry, runtime and agent side by side; absent parts shown as - or "no container"', () => {
    const client: ClientDescription['client'] = {
      id: acme,
      status: 'failed',
      provider: 'gmail',
      admins: [],
      subnet: null,
      onboardingStartedAt: '',
      statusReason: 'health check timed out',
      createdAt: '',
      updatedAt: '',
    };
    assert.equal(
      formatClientStatus({ runtime: 'docker', client, agent: null, scrapeTarget: null, model: null }),
      [
        'client:   acme',
        'status:   failed (health check timed out)',
        'runtime:  docker',
        'agent:    no container',
        'subnet:   -',
        'target:   -',
      ].join('\n'),
    );
    const agent = runningAgent(acme);
    const running = formatClientStatus({
      runtime: 'docker',
      client: { ...client, status: 'active', statusReason: null },
      agent,
      scrapeTarget: '127.0.0.1:2',
      model: { id: 'claude-sonnet-4-6', finding: null },
    });
    assert.match(running, /^status:   active$/m);
    assert.match(running, /^agent:    running control 127\.0\.0\.1:1 metrics 127\.0\.0\.1:2$/m);
    assert.match(running, /^target:   127\.0\.0\.1:2$/m);
    assert.doesNotMatch(running, /agent report/, 'no report asked for, none shown');
    assert.match(running, /^model: {4}claude-sonnet-4-6$/m);
    const retired = formatClientStatus({
      runtime: 'docker',
      client,
      agent,
      scrapeTarget: null,
      model: { id: 'claude-sonnet-4-5', finding: 'model claude-sonnet-4-5 was retired on 2026-11-30: every model call is refused' },
    });
    assert.match(retired, /^model: {4}claude-sonnet-4-5 \(model claude-sonnet-4-5 was retired on 2026-11-30: every model call is refused\)$/m);

    const report = {
      lifecycle: 'ready',
      killed: false,
      paused: 'rate_limit',
      pausedSince: '2026-12-06T10:00:00.000Z',
      dryRun: false,
      connection: 'gmail',
      vault: 'ok' as const,
      pendingApprovals: 3,
      lastSync: '2026-12-06T10:05:00.000Z',
      outbox: { pending: 1, held: 2, sent: 40 },
      push: { enabled: true, expiresAt: null },
    };
    const reported = formatClientStatus({ runtime: 'docker', client, agent, scrapeTarget: null, model: null, agentReport: { report } });
    assert.match(reported, /^agent report: ready$/m);
    assert.match(reported, /^ {2}sending paused: rate_limit since 2026-12-06T10:00:00\.000Z$/m);
    assert.match(reported, /^ {2}mailbox: +gmail, last sync 2026-12-06T10:05:00\.000Z, push ON, BUT NO LIVE WATCH/m);
    assert.match(reported, /^ {2}waiting: +3 approval\(s\); outbox 1 pending, 2 held, 40 sent$/m);
    const watched = formatClientStatus({
      runtime: 'docker',
      client,
      agent,
      scrapeTarget: null,
      model: null,
      agentReport: { report: { ...report, paused: null, pausedSince: null, push: { enabled: true, expiresAt: '2026-12-08T10:00:00.000Z' } } },
    });
    assert.match(watched, /sending paused: no$/m);
    assert.match(watched, /push watch until 2026-12-08T10:00:00\.000Z$/m);
    const silent = formatClientStatus({ runtime: 'docker', client, agent, scrapeTarget: null, model: null, agentReport: { unavailable: 'the agent did not answer' } });
    assert.match(silent, /^agent report: none \(the agent did not answer\)$/m);
  });

  test('list: aligned columns, or how to add the first client', () => {
    assert.equal(formatClientList([]), 'no clients yet: make provision CLIENT=<id>');
    assert.equal(
      formatClientList([
        { id: acme, status: 'active', subnet: '10.213.0.0/28' },
        { id: parseClientId('globex'), status: 'killed', subnet: null },
      ]),
      `${'acme'.padEnd(34)} ${'active'.padEnd(15)} 10.213.0.0/28\n${'globex'.padEnd(34)} ${'killed'.padEnd(15)} -`,
    );
  });

  test('deprovision and reconcile', () => {
    assert.equal(formatDeprovisioned({ clientId: 'acme', purged: true }), 'acme removed, data purged.');
    assert.equal(
      formatDeprovisioned({ clientId: 'acme', purged: false }),
      'acme removed; its volume is kept (--purge deletes it).',
    );
    assert.equal(formatReconcileReport({ actions: [], drift: [] }), 'in sync: nothing to do');
    assert.equal(
      formatReconcileReport({
        actions: [{ kind: 'restarted', clientId: acme, detail: 'exited 137' }],
        drift: ['orphan volume fleet-x-data'],
      }),
      `${'restarted'.padEnd(15)} acme: exited 137\ndrift           orphan volume fleet-x-data`,
    );
  });

  test('kill switch: the kill says whether the container is confirmed stopped and how to undo it', () => {
    assert.equal(
      formatKilled('acme', { revokedTokens: 2, containerStopped: true, durationMs: 183.6 }),
      'acme KILLED in 184 ms: 2 token(s) revoked, container stopped. Undo with: fleet revive acme --reason "…"',
    );
    assert.match(
      formatKilled('acme', { revokedTokens: 0, containerStopped: false, durationMs: 1 }),
      /container NOT confirmed stopped\./,
    );
    assert.equal(formatRevived('acme'), 'acme revived and active.');
    assert.equal(
      formatRotated('acme', { revokedTokens: 1, dataKeyVersion: 3 }),
      'acme: 1 old token(s) revoked, data key now version 3, agent re-introduced.',
    );
    assert.equal(formatResumed('acme'), 'acme: sending resumed.');
  });

  test('secrets: names, versions and dates, never values', () => {
    assert.equal(formatSecretStored('acme', 'anthropic', 2), 'acme/anthropic stored (version 2); a running agent uses it from its next model call (within 5 minutes; at once if the old key is refused).');
    assert.match(formatSecretStored('acme', 'outlook', 3), /^acme\/outlook stored \(version 3\); a running agent uses it from its next token refresh/);
    assert.match(formatSecretStored('acme', 'bullhorn', 1), /^acme\/bullhorn stored \(version 1\); a running agent uses it once the CRM refuses the old credentials/);
    assert.match(formatSecretStored('acme', 'signature', 1), /^acme\/signature stored \(version 1\); a running agent reads it when it next connects/);
    assert.equal(formatSecretList([]), 'no secrets');
    assert.equal(
      formatSecretList([{ name: 'anthropic', version: 2, updatedAt: '2026-01-01T00:00:00Z' }]),
      `${'anthropic'.padEnd(24)} v2  2026-01-01T00:00:00Z`,
    );
    assert.equal(
      formatMailboxConnected('acme', 'gmail', { version: 1, grantedScopes: ['a', 'b'] }),
      'acme: gmail connected, tokens stored as secret "gmail" (version 1); scopes: a b',
    );
  });

  test('audit verify: intact with its count, or the break in capitals', () => {
    assert.equal(
      formatAuditVerification('acme', { verification: { ok: true, count: 12 }, checkpoint: null }),
      'audit log of acme intact: 12 records.',
    );
    assert.equal(
      formatAuditVerification('acme', { verification: { ok: true, count: 12 }, checkpoint: { seq: 12 } }),
      'audit log of acme intact: 12 records, consistent with the last checkpoint.',
    );
    assert.equal(
      formatAuditVerification('acme', {
        verification: { ok: false, count: 0, break: { kind: 'undecryptable', seq: 1, message: 'tampered' } },
        checkpoint: null,
      }),
      'AUDIT LOG OF acme BROKEN: undecryptable at seq 1: tampered',
    );
    assert.equal(formatApprovalDecided('ap-1', 'approve'), 'ap-1: approved.');
    assert.equal(formatApprovalDecided('ap-1', 'reject'), 'ap-1: rejected.');
  });

  test('support grants', () => {
    const grant: SupportGrant = {
      id: 'sg-0000000000000001',
      clientId: 'acme',
      member: 'alice@agency',
      incident: 'INC-42',
      reason: 'bounces',
      hours: 2,
      requestedAt: '2026-01-01T08:00:00Z',
      requestedBy: 'alice@agency',
      approvedBy: 'boss@acme.example',
      approvedAt: '2026-01-01T09:00:00Z',
      expiresAt: '2026-01-01T11:00:00Z',
      revokedAt: null,
      status: 'active',
    };
    assert.equal(
      formatSupportRequested('acme', grant),
      'sg-0000000000000001: requested for alice@agency (INC-42, 2 h once approved).\n  a client admin of acme approves or denies it in the client portal (Support access)',
    );
    assert.equal(formatSupportRevoked({ ...grant, status: 'revoked' }), 'sg-0000000000000001: revoked.');
    assert.equal(formatSupportGrants([]), 'no support grants');
    assert.equal(
      formatSupportGrants([{ ...grant, status: 'pending', expiresAt: null }]),
      'sg-0000000000000001  pending  alice@agency  INC-42  -  bounces',
    );
  });

  test('ops log and service', () => {
    const entry = {
      seq: 1,
      at: '2026-01-01T00:00:00Z',
      actor: 'ops@host',
      action: 'kill',
      clientId: 'acme',
      reason: 'compromised',
      outcome: 'success',
      details: {},
      prevHash: '',
      hash: '',
    };
    assert.equal(
      formatOpsLog([entry, { ...entry, seq: 2, clientId: null, reason: null }]),
      '1 2026-01-01T00:00:00Z ops@host kill acme success (compromised)\n2 2026-01-01T00:00:00Z ops@host kill - success',
    );
    assert.equal(
      formatOpsLog([{ ...entry, actor: 'erased', reason: null, erasedAt: '2026-03-04T05:06:07.000Z', seals: { actor: { digest: 'a' }, reason: { digest: 'b' }, details: { salt: 'c' } } }]),
      '1 2026-01-01T00:00:00Z erased kill acme success [actor, reason erased 2026-03-04]',
    );
    assert.equal(
      formatOpsLogVerification({ valid: true, entries: 3, head: 'ab'.repeat(32) }),
      `ops log intact: 3 entries, head ${'ab'.repeat(8)}…`,
    );
    assert.equal(
      formatOpsLogVerification({ valid: false, entries: 3, firstBadSeq: 2, problem: 'edited' }),
      'OPS LOG TAMPERED at seq 2: edited',
    );
    assert.equal(
      formatOpsLogVerification({ valid: false, entries: 3, firstBadSeq: 1, problem: 'erased-without-deletion' }),
      "OPS LOG TAMPERED at seq 1: fields erased although the entry's client was not deleted after it (an erasure or purge that did not finish? run it again)",
    );
    assert.equal(
      formatServiceState(true, '/home/ops/.agent-fleet/orchestrator.sock'),
      'orchestrator running (socket /home/ops/.agent-fleet/orchestrator.sock)',
    );
    assert.equal(formatServiceState(true), 'orchestrator running');
    assert.equal(formatServiceState(false), 'orchestrator not running');
  });

  test('service status says whether alerts reach Alertmanager, and what is broken when they do not', () => {
    const up = { prometheus: true, alertmanager: true, route: true };
    assert.match(formatMonitoring(null), /^monitoring: not checked/);
    assert.equal(
      formatMonitoring({ checkedAt: '2026-12-06T03:00:00.000Z', ok: true, up, problems: [], evidence: ['Watchdog firing'] }),
      'monitoring: alerts reach Alertmanager (checked 2026-12-06T03:00:00.000Z)',
    );
    assert.equal(
      formatMonitoring({
        checkedAt: '2026-12-06T03:00:00.000Z',
        ok: false,
        up: { ...up, route: false },
        problems: ['Alertmanager holds no Watchdog from the last 5 minutes'],
        evidence: [],
      }),
      'monitoring: BROKEN, alerts may reach nobody (checked 2026-12-06T03:00:00.000Z)\n  - Alertmanager holds no Watchdog from the last 5 minutes',
    );
  });
});
