// The agent's state gauges that alert rules page on: a revoked consent held until the agent is resumed,
// an unknown hourly limit reported as unknown (not 0), auth failure kinds kept to the fixed set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { AgentMetrics, type AuthFailureKind } from '../../../agent-image/src/observability/agent-metrics.ts';

async function gauge(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;
}

const fresh = () => {
  const registry = new Registry();
  return { registry, metrics: new AgentMetrics(registry, { client: 'acme', version: '0.1.0' }) };
};

describe('agent_consent_revoked', () => {
  it('holds from a revoked grant, through the pause it raises, until the agent is resumed', async () => {
    const { registry, metrics } = fresh();
    assert.equal(await gauge(registry, 'agent_consent_revoked'), 0);
    metrics.authFailure('transient');
    assert.equal(await gauge(registry, 'agent_consent_revoked'), 0, 'a passing 401 is no revocation');
    metrics.authFailure('revoked');
    metrics.setPaused(true);
    assert.equal(await gauge(registry, 'agent_consent_revoked'), 1);
    // Hours later nothing new has been counted, and the client has still not re-consented.
    metrics.setPaused(true);
    assert.equal(await gauge(registry, 'agent_consent_revoked'), 1);
    metrics.setPaused(false);
    assert.equal(await gauge(registry, 'agent_consent_revoked'), 0, 'resumed after a new consent');
    assert.equal(await gauge(registry, 'agent_auth_failures_total', { kind: 'revoked' }), 1);
  });

  it('is restored from the pause read back after a restart, and a rate-limit pause is no revocation', async () => {
    const { registry, metrics } = fresh();
    metrics.setPaused(true, { consentRevoked: true });
    assert.equal(await gauge(registry, 'agent_consent_revoked'), 1);
    const other = fresh();
    other.metrics.setPaused(true, { consentRevoked: false });
    assert.equal(await gauge(other.registry, 'agent_consent_revoked'), 0);
  });

  it('counts an unknown auth failure kind as transient instead of a new label', async () => {
    const { registry, metrics } = fresh();
    metrics.authFailure('user@example.com' as AuthFailureKind);
    const kinds = (await registry.getSingleMetric('agent_auth_failures_total')?.get())?.values.map((sample) => sample.labels.kind);
    assert.deepEqual([...new Set(kinds)].sort(), ['revoked', 'secret_store', 'transient']);
    assert.equal(await gauge(registry, 'agent_auth_failures_total', { kind: 'transient' }), 1);
    assert.equal(await gauge(registry, 'agent_consent_revoked'), 0);
  });
});

describe('agent_rate_limit_per_hour', () => {
  it('is unknown (NaN) until the config sets it, never 0: MassSending compares sends to 80% of it', async () => {
    const { registry, metrics } = fresh();
    assert.ok(Number.isNaN(await gauge(registry, 'agent_rate_limit_per_hour')));
    metrics.setRateLimitPerHour(20);
    assert.equal(await gauge(registry, 'agent_rate_limit_per_hour'), 20);
    metrics.setRateLimitPerHour(Number.NaN);
    assert.ok(Number.isNaN(await gauge(registry, 'agent_rate_limit_per_hour')));
  });
});

describe('agent_push_watch_expiry_timestamp_seconds', () => {
  it('reads the watch at each scrape: NaN while push is off, 0 while on with no watch, else its expiry', async () => {
    const { registry, metrics } = fresh();
    assert.ok(Number.isNaN(await gauge(registry, 'agent_push_watch_expiry_timestamp_seconds')), 'no push sync yet');
    let status: { enabled: boolean; expiresAt: string | null } = { enabled: false, expiresAt: null };
    metrics.readPushWatchFrom(() => status);
    assert.ok(Number.isNaN(await gauge(registry, 'agent_push_watch_expiry_timestamp_seconds')), 'push off');
    status = { enabled: true, expiresAt: null };
    assert.equal(await gauge(registry, 'agent_push_watch_expiry_timestamp_seconds'), 0, 'on, but no watch was made');
    status = { enabled: true, expiresAt: '2026-12-08T10:00:00.000Z' };
    assert.equal(await gauge(registry, 'agent_push_watch_expiry_timestamp_seconds'), Date.parse('2026-12-08T10:00:00.000Z') / 1000);
  });
});

describe('agent_journal_anchor_failing_seconds', () => {
  it('reads the anchor keeper at each scrape: 0 while the heads are recorded, else how long recording has failed', async (t) => {
    // The gauge reads the wall clock at the scrape: a fixed clock makes "how long" exact.
    t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-03-10T12:00:00.000Z') });
    const { registry, metrics } = fresh();
    assert.equal(await gauge(registry, 'agent_journal_anchor_failing_seconds'), 0, 'no volume open yet');
    let failingFrom: Date | null = null;
    metrics.readJournalAnchorFrom(() => failingFrom);
    assert.equal(await gauge(registry, 'agent_journal_anchor_failing_seconds'), 0);
    failingFrom = new Date('2026-03-10T11:53:20.000Z');
    assert.equal(await gauge(registry, 'agent_journal_anchor_failing_seconds'), 400);
    t.mock.timers.tick(60_000);
    assert.equal(await gauge(registry, 'agent_journal_anchor_failing_seconds'), 460, 'read again at the next scrape');
  });
});
