// fleet_api_auth_failures_total{surface="portal"} and one-tap approval links: a link the portal did not sign
// (a forged signature, an altered payload, a string that is no link at all) was refused as "nothing here"
// without being counted, so forging links went unseen by the burst alert. Such a link now counts wherever
// a route checks one; a genuine link opened again once used or expired, or opened by another client's admin,
// is an old email clicked again and does not count.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { createAuthFailureMetrics } from '../../../orchestrator/src/observability/metrics.ts';
import { ApprovalLinks } from '../../../orchestrator/src/portal/approval-links.ts';
import { approvalRoutes } from '../../../orchestrator/src/portal/http/routes-approvals.ts';
import { pendingMailSend } from '../../helpers/pending-approval.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const DAY = 86_400_000;
const PROPOSED = { kind: 'mail.send', to: ['client@example.com'], cc: [], bcc: [], subject: 'Figures', body: 'Attached.' };

describe('one-tap links refused by the approval routes', () => {
  const registry = new Registry();
  const counters = createAuthFailureMetrics(registry);
  const key = randomBytes(32);
  const used = new Set<string>();
  let linkClock = NOW;
  const links = new ApprovalLinks({
    key,
    nonces: {
      useLinkNonce: async (nonceHash) => !used.has(nonceHash) && Boolean(used.add(nonceHash)),
      isLinkNonceUsed: async (nonceHash) => used.has(nonceHash),
    },
    clock: { now: () => linkClock },
    ttlMs: DAY,
    publicUrl: () => 'http://127.0.0.1',
  });
  const decided: string[] = [];
  let harness: RouteHarness;
  before(async () => {
    harness = await startRouteHarness(approvalRoutes, {
      links,
      keys: { links: key } as never,
      onAuthRefused: counters.portal,
      gateway: {
        status: async () => null,
        getApproval: async (_clientId: string, id: string) => ({ ...pendingMailSend(id, PROPOSED), state: decided.includes(id) ? 'approved' : 'pending' }),
        decide: async (_clientId: string, id: string) => {
          decided.push(id);
          return { state: 'approved', execution: 'done' };
        },
      } as never,
    });
  });
  after(() => harness.close());

  const portalRefusals = async () =>
    (await registry.getSingleMetric('fleet_api_auth_failures_total')?.get())?.values.find((value) => value.labels['surface'] === 'portal')?.value;
  const tokenOf = (url: string) => url.slice(url.indexOf('/a/') + 3);
  const genuine = (approvalId: string, client = 'acme') => tokenOf(links.linkFor(client, approvalId));
  /** The genuine link with its signature replaced by one of another key. */
  const forged = (approvalId: string) => {
    const [prefix, payload] = genuine(approvalId).split('.');
    return `${prefix}.${payload}.${randomBytes(32).toString('base64url')}`;
  };
  /** A genuine link of one approval with its payload rewritten to name another, the signature kept. */
  const altered = (from: string, to: string) => {
    const [prefix, payload, signature] = genuine(from).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    return `${prefix}.${Buffer.from(JSON.stringify({ ...claims, a: to })).toString('base64url')}.${signature}`;
  };

  test('a genuine link opens and decides without a count', async () => {
    const link = genuine('ap-good');
    assert.equal((await harness.get(`/a/${link}`)).status, 200);
    assert.equal((await harness.post('/approvals/ap-good/approve', { link })).status, 200);
    assert.equal(await portalRefusals(), 0);
  });

  test('a forged, an altered and a made-up link are each counted where they are refused', async () => {
    assert.equal((await harness.get(`/a/${forged('ap-1')}`)).status, 404);
    assert.equal((await harness.get(`/a/${altered('ap-1', 'ap-2')}`)).status, 404);
    assert.equal((await harness.get('/a/not-a-link')).status, 404);
    assert.equal((await harness.post('/approvals/ap-3/approve', { link: forged('ap-3') })).status, 404);
    assert.equal((await harness.post('/approvals/ap-3/reject', { link: altered('ap-9', 'ap-3'), reason: 'no' })).status, 404);
    assert.equal((await harness.get(`/approvals/ap-3/edit?link=${encodeURIComponent(forged('ap-3'))}`)).status, 404);
    assert.equal(await portalRefusals(), 6);
    assert.ok(!decided.includes('ap-3'), 'nothing decided with a forged link');
  });

  test('a genuine link used, expired, of another approval or of another client is refused without a count', async () => {
    const before = await portalRefusals();
    const usedLink = genuine('ap-once');
    assert.equal((await harness.post('/approvals/ap-once/approve', { link: usedLink })).status, 200);
    assert.equal((await harness.get(`/a/${usedLink}`)).status, 404, 'used');
    linkClock = new Date(NOW.getTime() - 2 * DAY);
    const expired = genuine('ap-late');
    linkClock = NOW;
    assert.equal((await harness.get(`/a/${expired}`)).status, 404, 'expired');
    assert.equal((await harness.post('/approvals/ap-mine/approve', { link: genuine('ap-other') })).status, 404, 'another approval');
    assert.equal((await harness.get(`/a/${genuine('ap-mine', 'globex')}`)).status, 404, 'another client');
    assert.equal(await portalRefusals(), before);
  });
});
