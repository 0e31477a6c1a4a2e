import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import type { OutboundMessage } from '../../../agent-image/src/ports/send-receipts.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { Outbox } from '../../../agent-image/src/services/outbox/outbox.ts';
import { temporaryDirectory } from '../audit/helpers.ts';
import { FakeSendReceipts } from './fake-send-receipts.ts';
import { volumePause } from './volume-pause.ts';

const script = fileURLToPath(new URL('./fixtures/send-until-killed.ts', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

type ChildMessage =
  | { kind: 'recovered' }
  | { kind: 'intent'; key: string }
  | { kind: 'send' | 'find'; id: number; key: string; message?: OutboundMessage };

/**
 * Runs the sending child against `provider` and SIGKILLs it right after the provider accepted the
 * `killAfterSends`-th message of this run, before the child hears back: the worst moment to crash.
 */
function sendUntilKilled(dir: string, keyHex: string, firstIndex: number, provider: FakeSendReceipts, killAfterSends: number) {
  return new Promise<Set<string>>((resolve, reject) => {
    const child = spawn(process.execPath, [script, dir, keyHex, String(firstIndex)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const intents = new Set<string>();
    let sendsThisRun = 0;
    let killed = false;
    let stderr = '';
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not reach ${killAfterSends} sends within 30 s; stderr: ${stderr}`));
    }, 30_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('message', (raw) => {
      const message = raw as ChildMessage;
      if (killed) return;
      if (message.kind === 'intent') intents.add(message.key);
      if (message.kind === 'find') {
        void provider.findSentByIdempotencyKey(message.key).then((receipt) => child.send({ id: message.id, receipt }));
      }
      if (message.kind === 'send' && message.message !== undefined) {
        void provider.send(message.message).then((receipt) => {
          if (++sendsThisRun >= killAfterSends) {
            killed = true;
            child.kill('SIGKILL');
          } else child.send({ id: message.id, receipt });
        });
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (killed && signal === 'SIGKILL') resolve(intents);
      else reject(new Error(`child exited early (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
}

describe('outbox crash safety', () => {
  it('kill -9 during a burst of sends neither loses nor duplicates a send', async () => {
    const dir = await temporaryDirectory('outbox-kill');
    cleanups.push(dir.remove);
    const key = randomBytes(32);
    const provider = new FakeSendReceipts();
    const intents = new Set<string>();
    const killPoints = [7, 13, 5];
    for (const [round, killAfter] of killPoints.entries()) {
      for (const intent of await sendUntilKilled(dir.path, key.toString('hex'), round * 10_000, provider, killAfter)) intents.add(intent);
    }

    const audit = await AuditLog.open({ directory: join(dir.path, 'audit'), keys: key });
    const outbox = await Outbox.open({ directory: join(dir.path, 'outbox'), keys: key, audit, pause: await volumePause(dir.path, key) });
    const report = await outbox.recover(provider);
    assert.ok(report.reconciled.length >= 1, 'the send cut off by the last kill is reconciled, not repeated');

    const sentKeys = provider.sent.map((entry) => entry.key);
    assert.equal(new Set(sentKeys).size, sentKeys.length, `duplicated sends: ${sentKeys.filter((k, i) => sentKeys.indexOf(k) !== i).join(', ')}`);
    for (const intent of intents) assert.equal(provider.sendsFor(intent), 1, `${intent} acknowledged but not sent exactly once`);
    assert.ok(intents.size >= 20, `only ${intents.size} intents acknowledged`);
    assert.deepEqual(outbox.list('pending'), []);
    const verification = await audit.verify();
    assert.equal(verification.ok, true, JSON.stringify(verification));
    const sendRecords = (await audit.read()).filter((record) => record.action_type === 'email_send');
    for (const intent of intents) {
      const results = sendRecords.filter((record) => record.parameters.idempotency_key === intent && record.result === 'success');
      assert.ok(results.length >= 1, `no audited result for ${intent}`);
    }
    await outbox.close();
    await audit.close();
  });
});
