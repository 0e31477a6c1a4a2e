// The journal anchor keeper's writes under a slow or failing Vault: one at a time, in order, a failed one
// thrown to its caller without stopping the next, and the stop's last write after the one in flight.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AnchoredHeads, JournalHead } from '@agent-fleet/kernel/journal-anchor';
import type { Logger } from '@agent-fleet/kernel/logger';
import { JournalAnchorKeeper } from '../../../agent-image/src/services/runtime/journal-anchor-keeper.ts';

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: (message) => lines.push(`info: ${message}`),
    warn: (message) => lines.push(`warn: ${message}`),
    error: (message) => lines.push(`error: ${message}`),
    child: () => logger,
  };
  return logger;
}

const hash = (n: number) => n.toString(16).padStart(64, '0');

/** A Vault whose writes wait until released, one by one; `failNext` makes the next write fail. */
function slowVault() {
  const written: number[] = [];
  const waiting: Array<() => void> = [];
  let inFlight = 0;
  let most = 0;
  const vault = {
    written,
    failNext: false,
    get most() {
      return most;
    },
    release: () => waiting.shift()?.(),
    waiting: () => waiting.length,
    async write(heads: AnchoredHeads) {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((resolve) => waiting.push(resolve));
      inFlight--;
      if (vault.failNext) {
        vault.failNext = false;
        throw new FleetError('unavailable', 'vault: write secret failed: connection reset', { retryable: true });
      }
      written.push(heads['audit']?.seq ?? 0);
    },
  };
  return vault;
}

async function until(condition: () => boolean): Promise<void> {
  for (let tries = 0; !condition(); tries++) {
    assert.ok(tries < 500, 'timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('the journal anchor keeper under a slow Vault', () => {
  test('flushes wait for the write in flight, a failed one rejects for its caller only, and the next records the heads', async () => {
    const vault = slowVault();
    let head: JournalHead = { seq: 1, hash: hash(1) };
    const lines: string[] = [];
    const keeper = new JournalAnchorKeeper({ store: vault, journals: [{ name: 'audit', head: async () => head }], now: () => new Date(), logger: recordingLogger(lines) });
    const first = keeper.flush();
    await until(() => vault.waiting() === 1);
    head = { seq: 2, hash: hash(2) };
    const second = keeper.flush();
    vault.failNext = true;
    vault.release();
    await assert.rejects(first, /connection reset/);
    await until(() => vault.waiting() === 1);
    vault.release();
    await second;
    assert.deepEqual(vault.written, [2], 'the failed write is not taken for recorded; the next one records the heads of its time');
    assert.equal(vault.most, 1, 'never two writes at once');
  });

  test('a stop during a slow periodic write waits for it, then records the last heads; no write after the stop', async () => {
    const vault = slowVault();
    let head: JournalHead = { seq: 1, hash: hash(1) };
    const lines: string[] = [];
    const keeper = new JournalAnchorKeeper({ store: vault, journals: [{ name: 'audit', head: async () => head }], intervalMs: 1, now: () => new Date(), logger: recordingLogger(lines) });
    keeper.start();
    await until(() => vault.waiting() === 1);
    head = { seq: 5, hash: hash(5) };
    const stopped = keeper.stop();
    vault.release();
    await until(() => vault.waiting() === 1);
    vault.release();
    await stopped;
    assert.deepEqual(vault.written, [1, 5]);
    head = { seq: 6, hash: hash(6) };
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(vault.waiting(), 0, 'the periodic writes ended with the stop');
    assert.deepEqual(vault.written, [1, 5]);
    assert.deepEqual(lines, []);
  });

  test('a periodic write that fails is warned and retried, and a stop whose last write fails logs it as an error', async () => {
    const vault = slowVault();
    const head: JournalHead = { seq: 3, hash: hash(3) };
    const lines: string[] = [];
    const keeper = new JournalAnchorKeeper({ store: vault, journals: [{ name: 'audit', head: async () => head }], intervalMs: 1, now: () => new Date(), logger: recordingLogger(lines) });
    keeper.start();
    await until(() => vault.waiting() === 1);
    vault.failNext = true;
    vault.release();
    await until(() => vault.waiting() === 1);
    assert.ok(keeper.failingFrom !== null);
    assert.deepEqual(lines, ['warn: recording the journal heads in Vault failed; retrying']);
    const stopped = keeper.stop();
    vault.failNext = true;
    vault.release();
    await until(() => vault.waiting() === 1);
    vault.failNext = true;
    vault.release();
    await stopped;
    assert.equal(lines.filter((line) => line.startsWith('error:')).length, 1);
    assert.deepEqual(vault.written, []);
  });
});
