// A malformed `anthropic` secret (an admin's typo in the JSON form) is refused by name: the error never
// quotes the stored text, which JSON.parse's own message would (the characters around the fault, the key's).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { connectorsFromSecrets } from '../../../agent-image/src/adapters/connectors-from-secrets.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';

const token = () => randomBytes(16).toString('hex');

/** Every message in the error's cause chain. */
function everythingSaid(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) parts.push(current.message);
  return parts.join('\n');
}

test('a malformed JSON model key is refused naming the secret, quoting none of it', async () => {
  const parsed = parseClientConfig({ client: 'acme', provider: 'gmail', mailbox: 'jane@acme.example', admins: ['ops@acme.example'], permissions: { 'mail.read': true } });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const key = token();
  for (const malformed of [`{ "api_key": ${key} }`, `{"api_key":"${key}",}`, `{"api_key":"${key}"`]) {
    const secrets = new Map([
      ['gmail', JSON.stringify({ client_id: token(), client_secret: token(), refresh_token: token() })],
      ['anthropic', malformed],
    ]);
    const source = { readSecrets: async () => secrets } as Partial<SecretSource> as SecretSource;
    const failure = await connectorsFromSecrets({})({ config: parsed.config, secrets, source, logger: createSilentLogger() }).then(
      () => assert.fail('a malformed key is refused'),
      (error: unknown) => error,
    );
    const said = everythingSaid(failure);
    assert.match(said, /secret "anthropic"/);
    for (let at = 0; at + 6 <= key.length; at++) assert.ok(!said.includes(key.slice(at, at + 6)), `no part of the key in: ${said.split('\n')[0]}`);
  }
});
