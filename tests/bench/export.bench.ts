// Client export at size: streams generated data into a signed export archive on disk (half the entries of
// unknown size, so spooled; half of known size), then verifies it offline. Runs at a quarter of
// BENCH_EXPORT_MB and then at BENCH_EXPORT_MB (default 200) and prints JSON: throughput, and the peak RSS
// growth over the baseline, which must stay under a bound that does not depend on the size (memory
// bounded whatever the size). Most of that growth is garbage Buffers awaiting V8's external-memory GC
// trigger, hence the live-memory figure beside it. Exits 1 when a bound is exceeded or a check fails.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import {
  EncryptedFileStore,
  loadOrCreateMasterKey,
} from '../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import { writeExportArchiveToFile } from '../../orchestrator/src/services/export/export-archive-file.ts';
import { verifyExportArchive } from '../../orchestrator/src/services/export/export-archive-verifier.ts';
import type { ExportEntry } from '../../orchestrator/src/services/export/export-archive-writer.ts';
import {
  loadOrCreateExportSigner,
  type ExportSigner,
} from '../../orchestrator/src/services/export/export-signing-key.ts';

const MIB = 1024 * 1024;
const TOTAL_MB = Number(process.env['BENCH_EXPORT_MB'] ?? '200');
const RSS_BOUND_MB = Number(process.env['BENCH_EXPORT_RSS_BOUND_MB'] ?? '96');
const ENTRIES = 8;
const PIECE = 64 * 1024;
const mib = (bytes: number) => +(bytes / MIB).toFixed(1);

/** Fresh buffers each time: the archive may still hold a yielded buffer while the next is made. */
async function* generated(bytes: number, seed: number): AsyncGenerator<Buffer> {
  for (let sent = 0, i = 0; sent < bytes; sent += PIECE, i++)
    yield Buffer.allocUnsafe(Math.min(PIECE, bytes - sent)).fill((seed * 31 + i) & 0xff);
}

class MemorySampler {
  rss = 0;
  live = 0;
  private readonly timer = setInterval(() => this.sample(), 10);
  private sample(): void {
    const usage = process.memoryUsage();
    this.rss = Math.max(this.rss, usage.rss);
    this.live = Math.max(this.live, usage.heapUsed + usage.arrayBuffers);
  }
  stop(): this {
    this.sample();
    clearInterval(this.timer);
    return this;
  }
}

function entriesOf(totalBytes: number): ExportEntry[] {
  const perEntry = Math.floor(totalBytes / ENTRIES);
  return Array.from({ length: ENTRIES }, (_, i) => ({
    name: `data/part-${i}.bin`,
    description: `Generated part ${i}.`,
    ...(i % 2 === 0 ? { size: perEntry } : {}),
    open: () => generated(perEntry, i),
  }));
}

async function run(dir: string, signer: ExportSigner, megabytes: number, baselineRss: number) {
  const entries = entriesOf(megabytes * MIB);
  const dataBytes = Math.floor((megabytes * MIB) / ENTRIES) * ENTRIES;
  const path = join(dir, `export-${megabytes}.tar`);
  const sampler = new MemorySampler();
  const writeStarted = process.hrtime.bigint();
  await writeExportArchiveToFile(path, {
    clientId: parseClientId('bench'),
    createdAt: new Date(),
    entries,
    signer,
    spoolDir: dir,
  });
  const writeSeconds = Number(process.hrtime.bigint() - writeStarted) / 1e9;
  const verifyStarted = process.hrtime.bigint();
  const verified = await verifyExportArchive(
    createReadStream(path, { highWaterMark: 256 * 1024 }),
    signer.publicKeyPem,
  );
  const verifySeconds = Number(process.hrtime.bigint() - verifyStarted) / 1e9;
  const peak = sampler.stop();
  const archiveBytes = (await stat(path)).size;
  await rm(path);
  return {
    data_mib: mib(dataBytes),
    archive_bytes: archiveBytes,
    write: {
      seconds: +writeSeconds.toFixed(2),
      mib_per_second: +(dataBytes / MIB / writeSeconds).toFixed(1),
    },
    verify: {
      ok: verified.ok,
      problems: verified.problems.length,
      seconds: +verifySeconds.toFixed(2),
      mib_per_second: +(dataBytes / MIB / verifySeconds).toFixed(1),
    },
    rss_growth_mib: mib(peak.rss - baselineRss),
    peak_live_mib: mib(peak.live),
  };
}

const dir = await mkdtemp(join(tmpdir(), 'agent-fleet-export-bench-'));
try {
  const keyDir = join(dir, 'export-key');
  const signer = await loadOrCreateExportSigner(
    new EncryptedFileStore(keyDir, await loadOrCreateMasterKey(keyDir)),
    new Date(),
  );
  // Warm up the code paths so the baseline is not the cost of loading modules.
  await run(dir, signer, 1, 0);
  const baseline = process.memoryUsage.rss();
  const quarter = await run(dir, signer, TOTAL_MB / 4, baseline);
  const full = await run(dir, signer, TOTAL_MB, baseline);
  const withinBound = [quarter, full].every((r) => r.rss_growth_mib < RSS_BOUND_MB);
  console.log(
    JSON.stringify(
      {
        bench: 'export',
        entries: ENTRIES,
        spooled_entries: ENTRIES / 2,
        baseline_rss_mib: mib(baseline),
        rss_growth_bound_mib: RSS_BOUND_MB,
        runs: [quarter, full],
        within_bound: withinBound,
      },
      null,
      2,
    ),
  );
  if (!withinBound || !quarter.verify.ok || !full.verify.ok) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
