/**
 * Policy gate throughput and latency over a realistic mixed workload (reads, drafts, sends to known and
 * new contacts, labels, calendar writes, shares, deletes, some garbage), parsing included: the gate
 * always receives untrusted input. Prints JSON. Targets: > 100,000 decisions/s, p99 < 50 µs.
 */
import os from 'node:os';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { compilePolicy } from '../../agent-image/src/domain/policy/evaluate-policy.ts';
import { emptyPolicyState, learnContacts, type PolicyState } from '../../agent-image/src/domain/policy/policy-state.ts';

const DECISIONS = Number(process.env['POLICY_BENCH_DECISIONS'] ?? 300_000);
const WARMUP = 50_000;

function seededRandom(seed: number): () => number {
  let value = seed;
  return () => {
    value = (value * 1_103_515_245 + 12_345) % 2_147_483_648;
    return value / 2_147_483_648;
  };
}

const random = seededRandom(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const contacts = Array.from({ length: 500 }, (_, index) => `contact${index}@partner${index % 40}.example.com`);
const strangers = Array.from({ length: 200 }, (_, index) => `someone${index}@elsewhere${index % 30}.example.org`);
const blockList = [
  ...Array.from({ length: 300 }, (_, index) => `blocked${index}@competitor.example.net`),
  ...Array.from({ length: 150 }, (_, index) => `rival${index}.example.net`),
  ...Array.from({ length: 50 }, (_, index) => `*.adversary${index}.example.net`),
];

const parsed = parseClientConfig({
  client: 'bench',
  permissions: {
    'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true, 'mail.delete': true,
    'calendar.read': true, 'calendar.write': true, 'files.read': true, 'files.share': true, 'files.write': true,
  },
  onboarding: { startedAt: '2025-01-01T00:00:00Z', days: 28 },
  blockList,
  knownContacts: contacts.slice(0, 250),
  rateLimits: { perHour: 200, perDay: 1000 },
});
if (!parsed.ok) throw new Error(parsed.issues.join('\n'));
const evaluator = compilePolicy(parsed.config);

let state: PolicyState = learnContacts(emptyPolicyState(), contacts.slice(250));
const base = Date.parse('2025-06-02T10:00:00Z');
state = { ...state, sendHistory: Array.from({ length: 80 }, (_, index) => ({ at: base - index * 15 * 60_000, recipients: 1 + (index % 3) })).reverse() };

const body = 'Hello,\n\nThanks for your note about the quarterly figures. '.repeat(20) + 'See https://www.example.com/report for details.\n';
const emailTypes = ['acknowledgement', 'follow_up', 'scheduling_confirmation', 'offer', 'routine'] as const;

function makeAction(): unknown {
  const roll = random();
  if (roll < 0.35) return { kind: pick(['mail.read', 'calendar.read', 'files.read'] as const), query: 'in:inbox', oldestDataAt: '2025-05-30T08:00:00Z' };
  if (roll < 0.5) return { kind: 'mail.draft', to: [pick(contacts)], subject: 'Re: figures', body, emailType: pick(emailTypes) };
  if (roll < 0.72) {
    const to = random() < 0.8 ? [pick(contacts)] : [pick(strangers)];
    const cc = random() < 0.3 ? [pick(contacts), pick(contacts)] : undefined;
    return { kind: 'mail.send', to, cc, subject: 'Re: figures', body, emailType: pick(emailTypes), links: ['https://www.example.com/report'] };
  }
  if (roll < 0.82) return { kind: 'mail.label', messageIds: ['m1', 'm2'], add: ['triaged'] };
  if (roll < 0.9) return { kind: 'calendar.write', operation: 'create', title: 'Sync', start: '2025-06-03T10:00:00Z', end: '2025-06-03T10:30:00Z', participants: [pick(contacts), pick(strangers)] };
  if (roll < 0.94) return { kind: 'files.share', fileId: 'f-12', recipients: [pick(contacts)], permission: 'read' };
  if (roll < 0.97) return { kind: pick(['mail.delete', 'files.delete'] as const), ...(random() < 0.5 ? { messageIds: ['m3'] } : { fileId: 'f-3' }) };
  if (roll < 0.985) return { kind: 'mail.send', to: ['Not An Address'], subject: 'x', body: 'y' };
  return { kind: 'shell.exec', command: 'rm -rf /' };
}

const workload = Array.from({ length: 10_000 }, makeAction);
const now = new Date(base + 60_000);

for (let index = 0; index < WARMUP; index++) evaluator.evaluate(workload[index % workload.length], state, now);

const latencies = new Float64Array(DECISIONS);
const counts: Record<string, number> = { allow: 0, needs_approval: 0, deny: 0 };
const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
for (let index = 0; index < DECISIONS; index++) {
  const before = process.hrtime.bigint();
  const decision = evaluator.evaluate(workload[index % workload.length], state, now);
  latencies[index] = Number(process.hrtime.bigint() - before) / 1000;
  counts[decision.decision]!++;
}
const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
latencies.sort();
const quantile = (q: number): number => Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(2));

const decisionsPerSecond = Math.round(DECISIONS / elapsedSeconds);
const p99 = quantile(0.99);
console.log(
  JSON.stringify(
    {
      benchmark: 'policy',
      decisions: DECISIONS,
      decisionsPerSecond,
      // The machine is shared: per CPU-second shows the gate's own cost when other work steals the core.
      decisionsPerCpuSecond: Math.round(DECISIONS / cpuSeconds),
      loadAverage1m: Number(os.loadavg()[0]!.toFixed(2)),
      latencyMicroseconds: { p50: quantile(0.5), p90: quantile(0.9), p99, max: quantile(1) },
      decisionMix: counts,
      targets: { decisionsPerSecond: 100_000, p99Microseconds: 50 },
      meetsTargets: decisionsPerSecond > 100_000 && p99 < 50,
      note: 'throughput includes per-call timing overhead; parsing (zod) of untrusted input is included',
    },
    null,
    2,
  ),
);
