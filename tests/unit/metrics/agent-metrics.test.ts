import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { AgentMetrics, dataAgeBucket, isOffHours, type WorkingHours } from '../../../agent-image/src/observability/agent-metrics.ts';

const PROMTOOL = '/usr/bin/promtool';
const DAY = 86_400_000;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format strictly enough to catch malformed output. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2] as string, meta[3] as string);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(sample, `unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    const body = sample[2] ?? '';
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
    let consumed = 0;
    for (let match = labelPattern.exec(body); match !== null; match = labelPattern.exec(body)) {
      labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, '$1');
      consumed = labelPattern.lastIndex;
    }
    assert.equal(consumed, body.length, `bad labels in: ${line}`);
    // The exposition format allows NaN (any case, as Go's ParseFloat reads it): the unknown audit state.
    const value = /^nan$/i.test(sample[3] as string) ? Number.NaN : Number(sample[3]);
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(sample[3] as string), `bad value in: ${line}`);
    samples.push({ name: sample[1] as string, labels, value });
  }
  return { samples, types };
}

async function exercised(): Promise<{ registry: Registry; metrics: AgentMetrics }> {
  const registry = new Registry();
  const metrics = new AgentMetrics(registry, { client: 'acme', version: '0.1.0' });
  metrics.emailsRead(3);
  metrics.dataRead(2 * DAY);
  metrics.dataRead(400 * DAY);
  metrics.draftCreated();
  metrics.emailSent(4, 1);
  metrics.policyDecision('allow', 'auto_send_known_contact');
  metrics.policyDecision('deny', 'block_list');
  metrics.policyDecision('needs_approval', 'new.contact@example.com');
  metrics.policyDecision('deny', 'Subject: Invoice overdue');
  metrics.rateLimitHit();
  metrics.authFailure();
  metrics.approvalExpired();
  metrics.llmTokens('input', 1200);
  metrics.setApprovalsPending(2);
  metrics.setPaused(true);
  metrics.setKilled(false);
  metrics.setAuditChainValid(true);
  metrics.setLastSync(new Date('2026-01-07T10:30:00Z'));
  return { registry, metrics };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find(
    (sample) => sample.name === name && Object.entries(labels).every(([key, expected]) => sample.labels[key] === expected),
  )?.value;
}

describe('agent metrics', () => {
  it('exports every counter and gauge the alert rules use, with the client as a default label', async () => {
    const { registry } = await exercised();
    const { samples, types } = parseExposition(await registry.metrics());
    for (const name of [
      'agent_emails_read_total',
      'agent_drafts_created_total',
      'agent_emails_sent_total',
      'agent_recipients_total',
      'agent_policy_decisions_total',
      'agent_rate_limit_hits_total',
      'agent_new_recipient_domains_total',
      'agent_offhours_actions_total',
      'agent_data_reads_total',
      'agent_auth_failures_total',
      'agent_approvals_expired_total',
      'agent_llm_tokens_total',
    ]) {
      assert.equal(types.get(name.replace(/_total$/, '')) ?? types.get(name), 'counter', name);
    }
    for (const name of ['agent_approvals_pending', 'agent_paused', 'agent_killed', 'agent_audit_chain_valid', 'agent_last_sync_timestamp_seconds']) {
      assert.equal(types.get(name), 'gauge', name);
    }
    assert.ok(samples.every((sample) => sample.labels.client === 'acme'), 'every sample carries client="acme"');
    assert.equal(value(samples, 'fleet_agent_info', { version: '0.1.0', client: 'acme' }), 1);
    assert.equal(value(samples, 'agent_emails_read_total'), 3);
    assert.equal(value(samples, 'agent_recipients_total'), 4);
    assert.equal(value(samples, 'agent_new_recipient_domains_total'), 1);
    assert.equal(value(samples, 'agent_data_reads_total', { age: '<7d' }), 1);
    assert.equal(value(samples, 'agent_data_reads_total', { age: '>365d' }), 1);
    assert.equal(value(samples, 'agent_data_reads_total', { age: '7-30d' }), 0);
    assert.equal(value(samples, 'agent_policy_decisions_total', { decision: 'deny', reason: 'block_list' }), 1);
    assert.equal(value(samples, 'agent_paused'), 1);
    assert.equal(value(samples, 'agent_last_sync_timestamp_seconds'), Date.parse('2026-01-07T10:30:00Z') / 1000);
  });

  it('exports its start time from the start, while the last sync is still 0 (SyncStalled counts from it)', async () => {
    const registry = new Registry();
    new AgentMetrics(registry, { client: 'acme', version: '0.1.0', startedAt: new Date('2026-01-07T10:00:00Z') });
    const { samples, types } = parseExposition(await registry.metrics());
    assert.equal(types.get('agent_start_time_seconds'), 'gauge');
    assert.equal(value(samples, 'agent_start_time_seconds', { client: 'acme' }), Date.parse('2026-01-07T10:00:00Z') / 1000);
    assert.equal(value(samples, 'agent_last_sync_timestamp_seconds'), 0);

    const before = Date.now() / 1000;
    const byDefault = new Registry();
    new AgentMetrics(byDefault, { client: 'acme', version: '0.1.0' });
    const started = value(parseExposition(await byDefault.metrics()).samples, 'agent_start_time_seconds') ?? Number.NaN;
    assert.ok(started >= Math.floor(before) && started <= Date.now() / 1000 + 1, `default start time ${started}`);

    assert.throws(
      () => new AgentMetrics(new Registry(), { client: 'acme', version: '0.1.0', startedAt: new Date('not a date') }),
      (error: Error & { code?: string }) => error.code === 'invalid_input' && /start time/.test(error.message),
    );
  });

  it('never puts an address or a subject into a label value', async () => {
    const { registry } = await exercised();
    const { samples } = parseExposition(await registry.metrics());
    for (const sample of samples) {
      for (const labelValue of Object.values(sample.labels)) {
        assert.doesNotMatch(labelValue, /@|\s|example\.com/, `${sample.name} has label value ${labelValue}`);
      }
    }
    assert.equal(value(samples, 'agent_policy_decisions_total', { decision: 'needs_approval', reason: 'other' }), 1);
    assert.equal(value(samples, 'agent_policy_decisions_total', { decision: 'deny', reason: 'other' }), 1);
  });

  it('keeps the reason label bounded however many distinct reasons arrive', async () => {
    const registry = new Registry();
    const metrics = new AgentMetrics(registry, { client: 'acme', version: '0.1.0' });
    for (let index = 0; index < 500; index++) metrics.policyDecision('deny', `reason_${index}`);
    const { samples } = parseExposition(await registry.metrics());
    const reasons = new Set(samples.filter((sample) => sample.name === 'agent_policy_decisions_total').map((sample) => sample.labels.reason));
    assert.equal(reasons.size, 65);
    assert.equal(value(samples, 'agent_policy_decisions_total', { reason: 'other' }), 500 - 64);
  });

  it('passes promtool check metrics', async () => {
    assert.ok(existsSync(PROMTOOL), `${PROMTOOL} is required for this test (Debian package "prometheus")`);
    const { registry } = await exercised();
    const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: await registry.metrics(), encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 0, `promtool: ${result.stdout}${result.stderr}`);
  });

  it('rejects a client id or version that would make an unsafe label', () => {
    assert.throws(() => new AgentMetrics(new Registry(), { client: 'bob@example.com', version: '1' }), /client|DNS|lowercase/i);
    assert.throws(() => new AgentMetrics(new Registry(), { client: 'acme', version: '1.0 beta' }), /version/);
  });
});

describe('off-hours', () => {
  const london: WorkingHours = { timezone: 'Europe/London', workingHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] } };
  const newYork: WorkingHours = { timezone: 'America/New_York', workingHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] } };
  const auckland: WorkingHours = { timezone: 'Pacific/Auckland', workingHours: { start: '08:00', end: '18:00', days: [1, 2, 3, 4, 5] } };

  it('uses the start inclusive and the end exclusive, in the client time zone', () => {
    assert.equal(isOffHours(new Date('2026-01-05T08:59:00Z'), london), true);
    assert.equal(isOffHours(new Date('2026-01-05T09:00:00Z'), london), false);
    assert.equal(isOffHours(new Date('2026-01-05T16:59:00Z'), london), false);
    assert.equal(isOffHours(new Date('2026-01-05T17:00:00Z'), london), true);
  });

  it('follows daylight saving time', () => {
    assert.equal(isOffHours(new Date('2026-07-06T08:30:00Z'), london), false, '09:30 BST');
    assert.equal(isOffHours(new Date('2026-07-06T12:59:00Z'), newYork), true, '08:59 EDT');
    assert.equal(isOffHours(new Date('2026-07-06T13:00:00Z'), newYork), false, '09:00 EDT');
  });

  it('uses the weekday in the client time zone, not in UTC', () => {
    assert.equal(isOffHours(new Date('2026-07-05T21:30:00Z'), auckland), false, 'Sunday in UTC, Monday 09:30 in Auckland');
    assert.equal(isOffHours(new Date('2026-07-10T21:30:00Z'), auckland), true, 'Friday in UTC, Saturday in Auckland');
  });

  it('counts only actions outside working hours', async () => {
    const registry = new Registry();
    const metrics = new AgentMetrics(registry, { client: 'acme', version: '0.1.0' });
    assert.equal(metrics.action(new Date('2026-01-05T10:00:00Z'), london), false);
    assert.equal(metrics.action(new Date('2026-01-10T10:00:00Z'), london), true);
    const { samples } = parseExposition(await registry.metrics());
    assert.equal(value(samples, 'agent_offhours_actions_total'), 1);
  });

  it('buckets data age at 7, 30 and 365 days', () => {
    assert.equal(dataAgeBucket(-1000), '<7d');
    assert.equal(dataAgeBucket(7 * DAY - 1), '<7d');
    assert.equal(dataAgeBucket(7 * DAY), '7-30d');
    assert.equal(dataAgeBucket(30 * DAY), '30-365d');
    assert.equal(dataAgeBucket(365 * DAY), '>365d');
    assert.equal(dataAgeBucket(Number.NaN), '<7d');
  });
});
