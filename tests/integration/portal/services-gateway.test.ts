import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { ServicesClientGateway } from '../../../orchestrator/src/portal/gateway/services-client-gateway.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

const now = new Date();
const approval = (id: string, status: string) => ({
  id,
  status,
  action: 'mail.send',
  reasons: ['new recipient'],
  createdAt: now.toISOString(),
  expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
  decision:
    status === 'rejected'
      ? {
          outcome: 'reject',
          by: 'admin@acme.com',
          via: 'orchestrator-api',
          at: now.toISOString(),
          reason: 'no',
        }
      : null,
  recipients: ['client@example.com'],
  cc: [],
  subject: `Subject ${id}`,
  bodyPreview: 'Body…',
  arguments: {
    kind: 'mail.send',
    to: ['client@example.com'],
    cc: [],
    bcc: ['archive@acme.com'],
    subject: `Subject ${id}`,
    body: 'Whole body',
    inReplyTo: 'm-9',
  },
});

/** The agent's side of the proxy as its control API answers (agent-image/CONTROL-API.md). */
class AgentDouble {
  readonly decisions: { clientId: unknown; id: string; input: unknown; actor: string }[] = [];
  readonly approvals = [approval('ap-1', 'pending'), approval('ap-2', 'rejected')];
  async listApprovals(_clientId: unknown, status = 'pending') {
    return { approvals: this.approvals.filter((entry) => entry.status === status) };
  }
  async decide(clientId: unknown, id: string, input: unknown, actor: string) {
    this.decisions.push({ clientId, id, input, actor });
    return { id, status: 'edited', execution: 'waiting' };
  }
  /** `GET /v1/approvals/:id`: the whole draft, the thread and the signals; null for an unknown id. */
  async approval(_clientId: string, id: string) {
    const found = this.approvals.find((entry) => entry.id === id);
    if (!found) return null;
    return {
      ...found,
      signals: ['instruction_override'],
      sender: { address: 'client@example.com', authenticated: true, knownContact: false },
      draft: null,
      thread: [{ from: 'client@example.com', at: now.toISOString(), subject: 'Hi', body: 'Quote?', fromCorrespondent: true }],
      threadAvailable: true,
    };
  }
  async auditRecords(_clientId: string, query: { types?: readonly string[]; limit: number }) {
    return this.records()
      .filter((record) => !query.types || query.types.includes(record.action_type))
      .reverse()
      .slice(0, query.limit);
  }
  async summary(_clientId: string, date: string) {
    return {
      date,
      timezone: 'Europe/London',
      report: {
        read: 2,
        drafted: 0,
        sent: 1,
        blocked: 0,
        reviewQueued: 0,
        decidedApprovals: 0,
        pendingApprovals: [{ id: 'ap-1', recipients: 'client@example.com', subject: 'Subject ap-1', expiresAt: now.toISOString() }],
        expiredApprovals: [],
        anomalies: [],
        llm: { calls: 4, inputTokens: 4000, outputTokens: 400, costUsd: 0.018, costPerEmailUsd: 0.009 },
      },
    };
  }
  records() {
    return [1, 2, 3].map((seq) => ({
      seq,
      timestamp: now.toISOString(),
      action_type: seq === 2 ? 'email_send' : 'email_read',
      actor: 'agent',
      target: null,
      result: 'success',
    }));
  }
  async exportAudit(_clientId: unknown, query: { format: string }, sink: NodeJS.WritableStream) {
    const records = [1, 2, 3].map((seq) => ({
      seq,
      timestamp: now.toISOString(),
      action_type: seq === 2 ? 'email_send' : 'email_read',
      actor: 'agent',
      target: null,
      result: 'success',
    }));
    sink.write(
      query.format === 'csv'
        ? 'seq,timestamp\n'
        : `${records.map((record) => JSON.stringify(record)).join('\n')}\n`,
    );
  }
}

void describe('ServicesClientGateway over the registry, support access and the agent proxy', () => {
  let opened: OpenedRegistry;
  let registry: Registry;
  let agent: AgentDouble;
  let gateway: ServicesClientGateway;
  const killed: unknown[] = [];

  before(async () => {
    opened = await registryBackends[0]!.open();
    registry = opened.registry;
    await registry.claimForProvisioning(
      {
        id: 'acme' as ClientId,
        provider: 'gmail',
        admins: ['Admin@Acme.com'],
        configYaml: 'client: acme\nadmins: [Admin@Acme.com]\n',
        onboardingStartedAt: now.toISOString(),
      },
      'op-1',
      now,
      60_000,
    );
    agent = new AgentDouble();
    gateway = new ServicesClientGateway({
      registry,
      agents: agent as never,
      views: agent,
      killer: {
        kill: async (request) => {
          killed.push(request);
          return { alreadyKilled: false } as never;
        },
      },
      reviver: { revive: async () => ({ clientId: 'acme' as ClientId }) },
      support: new SupportAccessService({ registry, clock: { now: () => new Date() } }),
      // No agent runs here: the review queue's own tests drive it (tests/unit/orchestrator/review-queue.test.ts).
      review: { registry, runtime: { inspectAgent: async () => null }, control: { request: async () => ({}) as never }, secrets: { readControlToken: async () => null } },
    });
  });
  after(async () => {
    await opened?.close();
  });

  void test('admins come from the client config (lower-case); an unknown or malformed client has none', async () => {
    assert.deepEqual(await gateway.admins('acme'), ['admin@acme.com']);
    assert.deepEqual(await gateway.admins('nobody'), []);
    assert.deepEqual(await gateway.admins('../etc'), []);
  });

  void test('approvals carry the whole draft; decided ones are found too; an edit keeps the rest of the action', async () => {
    const listed = await gateway.listApprovals('acme');
    assert.deepEqual(
      listed.map((entry) => entry.id),
      ['ap-1'],
    );
    const detail = await gateway.getApproval('acme', 'ap-1');
    assert.deepEqual(detail?.draft, {
      to: ['client@example.com'],
      cc: [],
      bcc: ['archive@acme.com'],
      subject: 'Subject ap-1',
      body: 'Whole body',
    });
    assert.deepEqual(detail?.signals, ['instruction_override']);
    assert.equal(detail?.thread[0]?.fromCorrespondent, true);
    assert.equal((await gateway.getApproval('acme', 'ap-2'))?.decision?.reason, 'no');
    assert.equal(await gateway.getApproval('acme', 'ap-none'), null);
    const outcome = await gateway.decide(
      'acme',
      'ap-1',
      { decision: 'edit', draft: { to: ['c@d.co'], cc: [], subject: 'S', body: 'B' } },
      'admin@acme.com',
    );
    assert.deepEqual(outcome, { state: 'edited', execution: 'waiting' });
    assert.deepEqual(agent.decisions.at(-1), {
      clientId: 'acme',
      id: 'ap-1',
      input: {
        decision: 'edit',
        by: 'admin@acme.com',
        via: 'portal',
        arguments: {
          kind: 'mail.send',
          to: ['c@d.co'],
          cc: [],
          bcc: ['archive@acme.com'],
          subject: 'S',
          body: 'B',
          inReplyTo: 'm-9',
        },
      },
      actor: 'client-admin:admin@acme.com',
    });
  });

  void test('support: a pending request is approved by the admin, in the ops log; a decided one cannot be denied', async () => {
    const support = new SupportAccessService({ registry, clock: { now: () => new Date() } });
    const grant = await support.request({
      clientId: 'acme',
      member: 'ops.jane',
      incident: 'INC-1',
      reason: 'debug',
      actor: 'ops.jane',
    });
    const approved = await gateway.decideSupport('acme', grant.id, 'approve', 'admin@acme.com');
    assert.equal(approved.state, 'active');
    assert.equal(approved.approvedBy, 'admin@acme.com');
    await assert.rejects(
      gateway.decideSupport('acme', grant.id, 'deny', 'admin@acme.com'),
      /was approved already/,
    );
    const other = await support.request({
      clientId: 'acme',
      member: 'ops.sam',
      incident: 'INC-2',
      reason: 'look',
      actor: 'ops.sam',
    });
    assert.equal((await gateway.decideSupport('acme', other.id, 'deny', 'admin@acme.com')).state, 'revoked');
    const log = await registry.listOpsLog({ clientId: 'acme' });
    assert.ok(
      log.some(
        (entry) => entry.action === 'support-approve' && entry.actor === 'client-admin:admin@acme.com',
      ),
    );
  });

  void test('timeline asks the agent for bounded records; export and sign-ins are in the ops log; kill goes through the kill service', async () => {
    const sends = await gateway.auditTimeline('acme', { types: ['email_send'], limit: 10 });
    assert.deepEqual(
      sends.map((event) => event.seq),
      [2],
    );
    assert.deepEqual(
      (await gateway.auditTimeline('acme', { limit: 2 })).map((event) => event.seq),
      [3, 2],
    );
    const chunks: string[] = [];
    await gateway.exportAudit(
      'acme',
      'csv',
      new Writable({ write: (chunk, _encoding, done) => done(void chunks.push(String(chunk))) }),
      {},
      'admin@acme.com',
    );
    assert.equal(chunks.join(''), 'seq,timestamp\n');
    await gateway.recordAdminEvent('acme', 'admin@acme.com', 'portal-sign-in-passkey');
    const actions = (await registry.listOpsLog({ clientId: 'acme' }))
      .filter((entry) => entry.actor === 'client-admin:admin@acme.com')
      .map((entry) => entry.action);
    assert.ok(actions.includes('audit-export') && actions.includes('portal-sign-in-passkey'));
    await gateway.kill('acme', 'stop', 'admin@acme.com');
    assert.deepEqual(killed.at(-1), {
      clientId: 'acme',
      reason: 'stop',
      actor: 'client-admin:admin@acme.com',
    });
    const summary = await gateway.dailySummary('acme', now.toISOString().slice(0, 10));
    assert.equal(summary.read, 2);
    assert.equal(summary.sent, 1);
    assert.equal(summary.pendingApprovals, 1);
    assert.equal(summary.timezone, 'Europe/London');
    assert.equal(summary.modelCostUsd, 0.018);
    assert.deepEqual(
      summary.pending.map((entry) => entry.id),
      ['ap-1'],
    );
  });
});
