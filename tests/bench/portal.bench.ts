// `npm run bench:portal` (JSON). Part 1: the portal's own server time for the approvals page, one
// approval's page and an approve, with 20 clients and 100 pending approvals each. 2,000 approvals held by
// real agents would need 2,000 model round trips to create, so this part runs the real portal (TLS 1.3,
// PGlite store, sessions, CSRF, one-tap link checks) over the in-memory gateway serving realistic drafts
// and threads: it measures the portal, not the agent. Latency is taken at the client over a kept-alive
// loopback TLS connection (server time plus one local round trip). Part 2: approve-to-sent against a real
// agent in its container: from the admin's click on "Approve and send" to the mail arriving in the Gmail
// emulator.
import https from 'node:https';
import { launchPortalBrowser } from '../integration/portal/browser.ts';
import { createPasskey, finishEnrolment } from '../integration/portal/flows.ts';
import { portalSessions, startPortalHarness } from '../integration/portal/portal-harness.ts';
import { mailTo, newContactWrites, startRealPortal, type RealClient } from '../integration/portal/real-agent-harness.ts';

const CLIENTS = Number(process.env['BENCH_PORTAL_CLIENTS'] ?? 20);
const PENDING = Number(process.env['BENCH_PORTAL_PENDING'] ?? 100);
const REQUESTS = Math.min(500, Number(process.env['BENCH_PORTAL_REQUESTS'] ?? 300));
const SENDS = Number(process.env['BENCH_PORTAL_SENDS'] ?? 8);
const HOUR = 3_600_000;

function stats(samples: number[]): { n: number; p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! * 100) / 100;
  return { n: sorted.length, p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99), maxMs: at(1) };
}

const paragraph =
  'Thank you for your message about the order. We checked the delivery schedule with the warehouse and the goods leave on Thursday; ';

async function portalServerTime() {
  const h = await startPortalHarness();
  const sessions = await portalSessions(h);
  // The portal allows 600 requests a minute per address: each phase comes from its own loopback address.
  const agents = [2, 3, 4].map(
    (host) => new https.Agent({ keepAlive: true, maxSockets: 1, ca: h.portal.caCertificatePem ?? '', localAddress: `127.0.0.${host}` }),
  );
  let agent = agents[0]!;
  const now = h.clock.now().getTime();
  const admins: { clientId: string; cookie: string; csrf: string; pending: string[] }[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const clientId = `bench${String(c).padStart(2, '0')}`;
    const email = `admin@${clientId}.example`;
    h.gateway.addClient(clientId, [email]);
    const pending: string[] = [];
    for (let a = 0; a < PENDING; a++) {
      const id = `ap-${clientId}-${a}`;
      const correspondent = `customer${a}@example.com`;
      h.gateway.addApproval(clientId, {
        id,
        draft: { to: [correspondent], cc: ['orders@example.com'], bcc: [], subject: `Re: Order ${4000 + a}`, body: paragraph.repeat(8) },
        reasons: ['new_contact', 'free_text'],
        signals: a % 10 === 0 ? ['instruction_override'] : [],
        sender: { address: correspondent, authenticated: true, knownContact: false },
        createdAt: new Date(now - (a + 1) * 60_000).toISOString(),
        expiresAt: new Date(now + 70 * HOUR - a * 60_000).toISOString(),
        thread: [0, 1].map((m) => ({
          from: m === 0 ? correspondent : `assistant@${clientId}.example`,
          at: new Date(now - (a + 2 - m) * 60_000).toISOString(),
          subject: `Order ${4000 + a}`,
          body: paragraph.repeat(6),
          fromCorrespondent: m === 0,
        })),
      });
      pending.push(id);
    }
    const session = await sessions.start('active', { clientId, email });
    admins.push({ clientId, cookie: `__Host-fleet-session=${session.token}`, csrf: sessions.csrfToken(session), pending });
  }
  const origin = h.portal.url;
  const call = (method: 'GET' | 'POST', path: string, cookie: string, form?: Record<string, string>) =>
    new Promise<{ status: number; ms: number }>((resolve, reject) => {
      const body = form ? new URLSearchParams(form).toString() : undefined;
      const started = performance.now();
      const request = https.request(`${origin}${path}`, {
        method,
        agent,
        headers: {
          cookie,
          ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', origin, 'content-length': Buffer.byteLength(body) }),
        },
      });
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, ms: performance.now() - started }));
      });
      request.on('error', reject);
      request.end(body);
    });
  const measure = async (what: string, count: number, one: (i: number) => Promise<{ status: number; ms: number }>) => {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const answer = await one(i);
      if (answer.status !== 200) throw new Error(`${what}: status ${answer.status}`);
      samples.push(answer.ms);
    }
    return stats(samples);
  };
  const pick = (i: number) => admins[i % admins.length]!;
  await measure('warm-up', 30, (i) => call('GET', '/approvals', pick(i).cookie));
  const approvalsPage = await measure('approvals page', REQUESTS, (i) => call('GET', '/approvals', pick(i).cookie));
  agent = agents[1]!;
  const approvalPage = await measure('approval page', REQUESTS, (i) => call('GET', `/approvals/${pick(i).pending[(i * 7) % PENDING]}`, pick(i).cookie));
  agent = agents[2]!;
  const approve = await measure('approve', Math.min(REQUESTS, CLIENTS * PENDING), (i) => {
    const admin = pick(i);
    const id = admin.pending.shift()!;
    return call('POST', `/approvals/${id}/approve`, admin.cookie, { _csrf: admin.csrf });
  });
  for (const each of agents) each.destroy();
  await h.close();
  return { clients: CLIENTS, pendingPerClient: PENDING, approvalsPage, approvalPage, approve, approved: h.gateway.sent.length };
}

async function approveToSent() {
  const r = await startRealPortal(224, [{ stem: 'pz', admins: ['admin@pz.example'] }]);
  const client = r.clients[0] as RealClient;
  const chromium = await launchPortalBrowser(r.portal.handle.caCertificatePem ?? '');
  try {
    const admin = await chromium.newAdmin();
    const shown = await r.portal.invites.invite({ clientId: client.id, email: 'admin@pz.example', print: true, actor: 'bench' });
    if (shown.delivery !== 'shown') throw new Error('no link');
    await admin.page.goto(shown.url);
    await admin.page.getByRole('button', { name: 'Start the set-up' }).click();
    await admin.page.waitForURL('**/enrol/setup');
    await createPasskey(admin.page);
    await finishEnrolment(admin.page);
    const samples: number[] = [];
    for (let i = 0; i < SENDS; i++) {
      const to = `lead${i}@newco.example`;
      const id = await newContactWrites(r.fleet, client, to, `Question ${i}`);
      await admin.page.goto(`${r.portal.handle.url}/approvals/${id}`);
      const button = admin.page.getByRole('button', { name: 'Approve and send' });
      await button.waitFor();
      const started = performance.now();
      await button.click();
      while (mailTo(client, to).length === 0) {
        if (performance.now() - started > 30_000) throw new Error(`${to}: not sent within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      samples.push(performance.now() - started);
      await admin.page.getByText('Approved. The agent is sending it.').waitFor();
    }
    return stats(samples);
  } finally {
    await chromium.close();
    await r.close();
  }
}

const portal = await portalServerTime();
const sent = await approveToSent();
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'portal',
      date: new Date().toISOString(),
      note: 'part 1: the real portal over an in-memory gateway with realistic drafts (measures the portal only), client-side latency over kept-alive loopback TLS; part 2: a real agent container and the Gmail emulator, from the click to the mail in the emulator',
      serverTime: portal,
      approveToSent: sent,
    },
    null,
    2,
  )}\n`,
);
process.exit(0);
