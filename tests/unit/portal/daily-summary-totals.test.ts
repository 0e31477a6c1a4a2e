// The agent's day report keeps the first hundred expired approvals and anomalies of a flood day and says how
// many there were in all: the portal's summary counts the totals, not the lists, and says how many it does
// not show. An agent from before the cap (no totals) and a total smaller than its own list fall back to the list.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServicesClientGateway } from '../../../orchestrator/src/portal/gateway/services-client-gateway.ts';

function gatewayAnswering(report: Record<string, unknown>): ServicesClientGateway {
  const base = { read: 0, drafted: 0, sent: 0, blocked: 0, reviewQueued: 0, decidedApprovals: 0, pendingApprovals: [] };
  return new ServicesClientGateway({
    registry: {} as never,
    agents: {} as never,
    views: { summary: async () => ({ timezone: 'UTC', report: { ...base, ...report } }) } as never,
    killer: {} as never,
    reviver: {} as never,
    support: {} as never,
    review: {} as never,
  });
}

const anomaly = (n: number) => ({ at: '2026-12-07T10:00:00.000Z', kind: 'rate_limit_hour', detail: `#${n}` });

describe('the portal summary of a flood day', () => {
  test('counts the totals the agent reports beyond its capped lists', async () => {
    const gateway = gatewayAnswering({
      expiredApprovals: Array.from({ length: 100 }, (_, n) => ({ id: `ap-${n}` })),
      expiredApprovalsTotal: 20_000,
      anomalies: Array.from({ length: 100 }, (_, n) => anomaly(n)),
      anomaliesTotal: 20_300,
    });
    const summary = await gateway.dailySummary('acme', '2026-12-07');
    assert.equal(summary.expiredApprovals, 20_000);
    assert.equal(summary.anomalies.length, 100);
    assert.equal(summary.anomaliesTotal, 20_300);
  });

  test('falls back to the lists without totals, or with a total below what the list holds', async () => {
    const older = await gatewayAnswering({ expiredApprovals: [{ id: 'a' }, { id: 'b' }], anomalies: [anomaly(1)] }).dailySummary('acme', '2026-12-07');
    assert.deepEqual([older.expiredApprovals, older.anomaliesTotal], [2, 1]);
    const odd = await gatewayAnswering({ expiredApprovals: [{ id: 'a' }], expiredApprovalsTotal: 0, anomalies: [anomaly(1)], anomaliesTotal: 'many' }).dailySummary('acme', '2026-12-07');
    assert.deepEqual([odd.expiredApprovals, odd.anomaliesTotal], [1, 1]);
  });
});
