// The refusal log under a flood: a compromised agent can cause a refusal per connection, and must not be
// able to push its own first attempts (the hosts it tried to reach) out of the log by rotation.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { EgressRefusalLog, type EgressRefusalEntry } from '../../../orchestrator/src/adapters/egress-proxy/egress-refusal-log.ts';

const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const entry = (client: string, host: string, atMs: number): EgressRefusalEntry => ({
  at: new Date(atMs).toISOString(),
  client,
  host,
  port: 443,
  reason: 'not_allowed',
  source: '10.213.0.2',
});
const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

void test("a client's flood of refusals is written within its budget, its first attempt kept, the rest counted on its next line", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'egress-refusals-'));
  try {
    const file = path.join(dir, 'refused.jsonl');
    // Small enough that an unbudgeted flood of a few hundred lines would rotate twice over.
    const log = new EgressRefusalLog(file, { maxBytes: 4096, perClientPerWindow: 5, windowMs: 60_000 });
    await log.append(entry('acme', 'exfil.example.com', T0));
    await Promise.all(Array.from({ length: 500 }, (_, index) => log.append(entry('acme', `flood${index}.example.com`, T0 + 10 + index))));
    await log.append(entry('beta', 'other.example.com', T0 + 1000));
    await log.append(entry('acme', 'later.example.com', T0 + 61_000));
    const written = await lines(file);
    assert.equal(written[0]?.['host'], 'exfil.example.com', 'the first attempt is still there');
    assert.equal(written.filter((line) => line['client'] === 'acme').length, 6);
    assert.ok(written.some((line) => line['client'] === 'beta'), "another client's refusal is not crowded out");
    const last = written.at(-1);
    assert.deepEqual([last?.['host'], last?.['suppressed']], ['later.example.com', 496]);
    await assert.rejects(readFile(`${file}.1`), /ENOENT/, 'nothing was rotated away');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test("an erased client's lines leave the log and its rotated file; others stay, appends go on in turn", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'egress-refusals-'));
  try {
    const file = path.join(dir, 'refused.jsonl');
    const log = new EgressRefusalLog(file, { maxBytes: 400 });
    for (let index = 0; index < 6; index++) {
      await log.append(entry(index % 2 === 0 ? 'acme' : 'beta', `h${index}.example.com`, T0 + index));
    }
    const removing = log.forgetClient('acme');
    const appended = log.append(entry('beta', 'after.example.com', T0 + 100));
    assert.equal(await removing, 3);
    await appended;
    const everything = [...(await lines(`${file}.1`)), ...(await lines(file))];
    assert.deepEqual(everything.map((line) => line['client']), ['beta', 'beta', 'beta', 'beta']);
    assert.equal(everything.at(-1)?.['host'], 'after.example.com');
    assert.equal(await log.forgetClient('acme'), 0, 'nothing left to remove');
    assert.equal(await new EgressRefusalLog(path.join(dir, 'none.jsonl')).forgetClient('acme'), 0, 'no log, nothing to do');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
