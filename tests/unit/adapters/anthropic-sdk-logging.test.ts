// The Anthropic SDK's own notices reach the structured logger, never the console: a deprecated model is
// reported once per model per process, at warn level, however many requests and adapters use it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, mock, test } from 'node:test';
import type { Logger } from '@agent-fleet/kernel/logger';
import { AnthropicLlmClient } from '../../../agent-image/src/adapters/anthropic/anthropic-llm-client.ts';
import { knownModelRetirements } from '@agent-fleet/kernel/client-config';
import { sdkLogger } from '../../../agent-image/src/adapters/anthropic/sdk-logger.ts';
import type { EmailForModel } from '../../../agent-image/src/ports/llm-client.ts';
import { AnthropicEmulator } from '../../emulators/anthropic-emulator.ts';

interface Line {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps what it is given, children included. */
function capturingLogger(lines: Line[], bound: Record<string, unknown> = {}): Logger {
  const at =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields: { ...bound, ...fields } });
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => capturingLogger(lines, { ...bound, ...fields }),
  };
}

const email: EmailForModel = {
  from: 'dana@customer.example',
  to: ['agent@acme.example'],
  cc: [],
  subject: 'Quote',
  date: null,
  body: 'Hello',
};
const answer = { toolInput: { type: 'routine', confidence: 0.9, reasons: ['x'] } };

describe('the Anthropic SDK’s notices', () => {
  // A day the API still served the deprecated models (the emulator refuses them after their retirement).
  const emulator = new AnthropicEmulator({ apiKey: `test-${randomBytes(8).toString('hex')}`, now: () => new Date('2026-01-01T00:00:00Z') });
  before(() => emulator.start());
  after(() => emulator.stop());

  test('a deprecated model is reported once per model per process through the logger, never with console.warn', async () => {
    const [deprecated, endOfLife] = [...knownModelRetirements()][0] ?? assert.fail('no deprecated model known');
    const consoleWarn = mock.method(console, 'warn', () => undefined);
    try {
      const lines: Line[] = [];
      for (const attempt of [0, 1]) {
        const client = new AnthropicLlmClient({
          apiKey: emulator.apiKey,
          model: deprecated,
          baseURL: emulator.url,
          logger: capturingLogger(lines, { attempt }),
        });
        emulator.enqueue(answer, answer);
        await client.classify(email);
        await client.classify(email);
      }
      const current = new AnthropicLlmClient({
        apiKey: emulator.apiKey,
        model: 'claude-sonnet-4-6',
        baseURL: emulator.url,
        logger: capturingLogger(lines),
      });
      emulator.enqueue(answer);
      await current.classify(email);
      assert.equal(consoleWarn.mock.callCount(), 0, 'nothing is printed past the structured logger');
      const warnings = lines.filter((line) => line.level === 'warn');
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.equal(warnings[0]?.fields['model'], deprecated);
      assert.equal(warnings[0]?.fields['endOfLife'], endOfLife);
    } finally {
      consoleWarn.mock.restore();
    }
  });

  test('the SDK’s own log lines go to the structured logger at warn level', () => {
    const lines: Line[] = [];
    const logger = sdkLogger(capturingLogger(lines));
    logger.warn('a notice', { retry: 1 });
    logger.error('a failure');
    assert.deepEqual(lines, [
      { level: 'warn', message: 'a notice', fields: { detail: [{ retry: 1 }] } },
      { level: 'warn', message: 'a failure', fields: {} },
    ]);
  });
});
