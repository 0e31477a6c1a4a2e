// The Anthropic adapter in front of the Messages API emulator on loopback, one emulator per describe block.
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AnthropicLlmClient, type AnthropicLlmClientConfig } from '../../agent-image/src/adapters/anthropic/anthropic-llm-client.ts';
import { AnthropicEmulator } from '../emulators/anthropic-emulator.ts';

/**
 * An emulator started before the calling block's tests and stopped after them; before each test its
 * queue and the requests it received are emptied and its account answers as a healthy one.
 */
export function anthropicEmulatorForBlock(): AnthropicEmulator {
  const emulator = new AnthropicEmulator({ apiKey: `test-${randomBytes(8).toString('hex')}` });
  before(() => emulator.start());
  after(() => emulator.stop());
  beforeEach(() => {
    emulator.clearQueue();
    emulator.received.length = 0;
    emulator.setAccount('ok');
  });
  return emulator;
}

/** A client of `emulator` for claude-sonnet-4-6 that logs nothing, with `config` on top. */
export function emulatedAnthropicClient(emulator: AnthropicEmulator, config: Partial<AnthropicLlmClientConfig> = {}): AnthropicLlmClient {
  return new AnthropicLlmClient({ apiKey: emulator.apiKey, model: 'claude-sonnet-4-6', baseURL: emulator.url, logger: createSilentLogger(), ...config });
}
