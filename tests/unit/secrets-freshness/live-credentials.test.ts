// The pieces that keep a running agent's credentials as stored: the model key read again while calls go
// through, and a Graph grant an admin stored while a rotated refresh token was on its way to Vault.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { RefreshTokenGraphTokenSource } from '../../../agent-image/src/adapters/graph/graph-token-source.ts';
import { LiveKeyLlmClient } from '../../../agent-image/src/adapters/vault/live-key-llm-client.ts';
import { LiveSecret } from '../../../agent-image/src/adapters/vault/live-secret.ts';
import type { LlmClient } from '../../../agent-image/src/ports/llm-client.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';

/** The client's KV path in memory, with versions as Vault keeps them. */
function memorySource(initial: Record<string, string>): SecretSource & { kv: Map<string, { value: string; version: number }> } {
  const kv = new Map(Object.entries(initial).map(([name, value]) => [name, { value, version: 1 }]));
  return {
    kv,
    start: async () => undefined,
    readSecrets: async () => new Map([...kv].map(([name, { value }]) => [name, value])),
    readSecretData: async (name) => (kv.has(name) ? { value: kv.get(name)!.value } : null),
    readSecretVersion: async (name) => kv.get(name) ?? null,
    writeSecret: async (name, value, options) => {
      const version = kv.get(name)?.version ?? 0;
      if (options?.cas !== undefined && options.cas !== version) throw new FleetError('conflict', 'check-and-set parameter did not match the current version');
      kv.set(name, { value, version: version + 1 });
    },
    dataKey: () => Buffer.alloc(32),
    revoked: false,
    onRevoked: () => () => undefined,
    stop: async () => undefined,
  };
}

const key = () => `test-key-${randomBytes(6).toString('hex')}`;

describe('live credentials', () => {
  test('a model key the admin stores is used within the recheck interval even while the old one still works', async () => {
    const first = key();
    const source = memorySource({ anthropic: first });
    let now = 0;
    const used: string[] = [];
    const llm = new LiveKeyLlmClient({
      secret: await LiveSecret.load(source, 'anthropic', first),
      keyOf: (value) => value,
      build: (apiKey) =>
        ({
          classify: async () => {
            used.push(apiKey);
            return { value: { type: 'routine', confidence: 1, reasons: ['x'] }, usage: { inputTokens: 0, outputTokens: 0 } };
          },
          draftReply: async () => assert.fail('not called'),
        }) as unknown as LlmClient,
      recheckMs: 60_000,
      now: () => now,
    });
    const email = { from: 'a@b.example', to: [], cc: [], subject: '', date: null, body: '' };
    await llm.classify(email);
    const second = key();
    await source.writeSecret('anthropic', second);
    now += 30_000;
    await llm.classify(email);
    now += 31_000;
    await llm.classify(email);
    assert.deepEqual(used, [first, first, second]);
  });

  test('Graph: a grant the admin stored while the rotated token was on its way to Vault wins, and is used next', async () => {
    const graph = new GraphEmulator();
    await graph.start();
    try {
      const scopes = graphScopesFor({ 'mail.read': true });
      const original = graph.issueRefreshToken(scopes);
      const admins = graph.issueRefreshToken(scopes);
      const saved: string[] = [];
      const tokens = new RefreshTokenGraphTokenSource({
        tokenUrl: graph.tokenUrl,
        clientId: graph.clientId,
        clientSecret: graph.clientSecret,
        refreshToken: original,
        scopes,
        // As the check-and-set write back answers when the admin's write came first: not stored, theirs returned.
        onRefreshTokenRotated: async (rotated) => {
          saved.push(rotated);
          return admins;
        },
      });
      await tokens.getAccessToken(false);
      await tokens.getAccessToken(false);
      const used = graph.requests.filter((r) => r.path.endsWith('/oauth2/v2.0/token')).map((r) => new URLSearchParams(r.body).get('refresh_token'));
      assert.deepEqual(used, [original, admins]);
    } finally {
      await graph.stop();
    }
  });

  test('CRM: a rotated refresh token read with every secret is not written over a secret an admin stored since', async () => {
    const source = memorySource({ bullhorn: 'as read at connect' });
    const untouched = LiveSecret.unversioned(source, 'bullhorn', 'as read at connect');
    assert.equal(await untouched.writeBack('rotated once'), 'written');
    assert.equal(source.kv.get('bullhorn')?.value, 'rotated once');
    const stale = LiveSecret.unversioned(source, 'bullhorn', 'rotated once');
    await source.writeSecret('bullhorn', 'stored by the admin');
    assert.equal(await stale.writeBack('rotated twice'), 'superseded');
    assert.equal(source.kv.get('bullhorn')?.value, 'stored by the admin');
    assert.equal(stale.value, 'stored by the admin');
  });
});
