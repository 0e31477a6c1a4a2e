// Durable audit appends per second: every append resolves only after fsync; concurrent appends share one
// write+fsync (group commit). Prints JSON. Target: over 5,000 durable appends per second under concurrency.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, type AuditAppend } from '../../agent-image/src/services/audit-log/audit-log.ts';

const TARGET_PER_SECOND = 5_000;
const CONCURRENT_RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? '20000');
const CONCURRENCY = Number(process.env.BENCH_AUDIT_CONCURRENCY ?? '64');
const SEQUENTIAL_RECORDS = 300;

function entry(index: number): AuditAppend {
  return {
    action_type: 'email_send',
    actor: 'agent',
    target: `recipient${index}@example.com`,
    parameters: { subject: `Re: order ${index}`, recipients: 1 },
    approval_status: 'auto_approved',
    approved_by: 'policy',
    result: 'intended',
    content_hash: 'c'.repeat(64),
  };
}

async function run(log: AuditLog, records: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < records) await log.append(entry(next++));
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const directory = await mkdtemp(join(tmpdir(), 'agent-fleet-audit-bench-'));
try {
  const log = await AuditLog.open({ directory, keys: randomBytes(32) });
  const sequentialSeconds = await run(log, SEQUENTIAL_RECORDS, 1);
  const concurrentSeconds = await run(log, CONCURRENT_RECORDS, CONCURRENCY);
  const verifyStarted = process.hrtime.bigint();
  const verified = await log.verify();
  const verifySeconds = Number(process.hrtime.bigint() - verifyStarted) / 1e9;
  await log.close();
  const concurrentPerSecond = Math.round(CONCURRENT_RECORDS / concurrentSeconds);
  console.log(
    JSON.stringify(
      {
        bench: 'audit',
        durable: 'fsync before each append resolves',
        sequential: { records: SEQUENTIAL_RECORDS, appends_per_second: Math.round(SEQUENTIAL_RECORDS / sequentialSeconds) },
        concurrent: { records: CONCURRENT_RECORDS, concurrency: CONCURRENCY, appends_per_second: concurrentPerSecond },
        verify: { ok: verified.ok, records: verified.count, records_per_second: Math.round(verified.count / verifySeconds) },
        target_appends_per_second: TARGET_PER_SECOND,
        meets_target: concurrentPerSecond > TARGET_PER_SECOND && verified.ok,
      },
      null,
      2,
    ),
  );
} finally {
  await rm(directory, { recursive: true, force: true });
}
