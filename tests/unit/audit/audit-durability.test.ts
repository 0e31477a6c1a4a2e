import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { temporaryDirectory } from './helpers.ts';

const script = fileURLToPath(new URL('./fixtures/append-until-killed.ts', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** Runs the appender child until it has acknowledged at least `minimum` records, then SIGKILLs it. */
function appendUntilKilled(directory: string, keyHex: string, minimum: number): Promise<Set<number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, directory, keyHex, '16'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acknowledged = new Set<number>();
    let buffered = '';
    let stderr = '';
    let killed = false;
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child acknowledged only ${acknowledged.size} records within 30 s; stderr: ${stderr}`));
    }, 30_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) acknowledged.add(Number(line));
      if (!killed && acknowledged.size >= minimum) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (signal === 'SIGKILL' && killed) resolve(acknowledged);
      else reject(new Error(`child exited early (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
}

describe('audit log durability', () => {
  it('every record acknowledged before kill -9 is present after reopening, and the chain verifies', async () => {
    const dir = await temporaryDirectory('audit-kill');
    cleanups.push(dir.remove);
    const key = randomBytes(32);
    let expectedNext = 1;
    for (let round = 0; round < 3; round++) {
      const acknowledged = await appendUntilKilled(dir.path, key.toString('hex'), 300);
      const log = await AuditLog.open({ directory: dir.path, keys: key });
      const seqs = new Set((await log.read()).map((record) => record.seq));
      const missing = [...acknowledged].filter((seq) => !seqs.has(seq));
      assert.deepEqual(missing, [], `round ${round}: acknowledged records lost`);
      assert.ok(Math.min(...acknowledged) >= expectedNext, `round ${round}: the chain resumed where it stopped`);
      const result = await log.verify();
      assert.equal(result.ok, true, `round ${round}: ${JSON.stringify(result)}`);
      assert.equal(result.ok && result.count, seqs.size);
      expectedNext = (log.head()?.seq ?? 0) + 1;
      await log.close();
    }
  });
});
