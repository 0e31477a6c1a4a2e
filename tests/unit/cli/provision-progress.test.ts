// `fleet provision` shows its steps on the CLI's own stdout, never with `--json` (where stdout is the JSON
// result alone), and step names and errors from the service are inert there like all output.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { FleetApiClient, ProvisionLine } from '../../../orchestrator/src/cli/fleet-api-client.ts';
import { provisionWithProgress } from '../../../orchestrator/src/cli/provision-progress.ts';

const RESULT = { outcome: 'provisioned', warnings: [] };

/** An API whose provisioning stream plays `lines`, one per tick. */
function scriptedApi(lines: ProvisionLine[]): FleetApiClient {
  return {
    async provision(_clientId: ClientId, _body: unknown, onLine: (line: ProvisionLine) => void): Promise<void> {
      for (const line of lines) {
        await new Promise((resolve) => setImmediate(resolve));
        onLine(line);
      }
    },
  } as unknown as FleetApiClient;
}

const event = (step: string, type: 'step-succeeded' | 'step-failed', error?: string): ProvisionLine =>
  ({ event: { step, type, durationMs: 3, ...(error === undefined ? {} : { error }) } }) as unknown as ProvisionLine;

/** Step names no other writer (the test runner reports on the same stdout) would print. */
const STEP = { first: 'step-network-5b1e', second: 'step-container-5b1e' };

/**
 * Runs `work` and returns whether it wrote any step to the process's own stdout meanwhile (which it must
 * not touch). The test runner's own reports on that stream pass through.
 */
async function stepsOnProcessStdoutDuring(work: () => Promise<unknown>): Promise<boolean> {
  const write = process.stdout.write;
  let leaked = false;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = Buffer.from(chunk).toString('latin1');
    if (text.includes(STEP.first) || text.includes(STEP.second)) {
      leaked = true;
      return true;
    }
    return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    await work();
  } finally {
    process.stdout.write = write;
  }
  return leaked;
}

function collected(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

describe('provision progress', () => {
  test('with --json (no progress stream) nothing but the result is written: stdout stays one JSON document', async () => {
    const api = scriptedApi([
      { plan: [STEP.first, STEP.second] },
      event(STEP.first, 'step-succeeded'),
      event(STEP.second, 'step-succeeded'),
      { result: RESULT } as unknown as ProvisionLine,
    ]);
    let result: unknown;
    const leaked = await stepsOnProcessStdoutDuring(async () => (result = await provisionWithProgress(api, 'acme' as ClientId, {}, null)));
    assert.equal(leaked, false);
    assert.deepEqual(result, RESULT);
  });

  test('the steps are shown on the stream given, and step names and errors from the service are inert', async () => {
    const out = new PassThrough();
    const text = collected(out);
    const hostileStep = `${STEP.first}\u001b]0;pwned\u0007`;
    const api = scriptedApi([
      { plan: [hostileStep, STEP.second] },
      event(hostileStep, 'step-succeeded'),
      event(STEP.second, 'step-failed', 'pull failed \u001b[2J\u202e'),
      { error: new FleetError('unavailable', 'provisioning failed \u001b[31m') },
    ]);
    const leaked = await stepsOnProcessStdoutDuring(async () => {
      await assert.rejects(provisionWithProgress(api, 'acme' as ClientId, {}, out), /provisioning failed/);
    });
    assert.equal(leaked, false);
    assert.match(text(), new RegExp(STEP.second));
    assert.match(text(), /pull failed/);
    assert.doesNotMatch(text(), /[\u001b\u0007\u202e]/);
  });
});
