// Which secrets a running agent reads again is written once, in the kernel (LIVE_SECRETS): the CLI tells an
// admin from it when a newly stored value takes effect. The agent's connectors must re-read exactly those,
// for every provider, or the CLI promises a pick-up that never comes (or hides one that does).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { LIVE_SECRETS, secretPickUp } from '@agent-fleet/kernel/live-secrets';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { connectorsFromSecrets } from '../../../agent-image/src/adapters/connectors-from-secrets.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import { formatSecretStored } from '../../../orchestrator/src/cli/format/secrets.ts';

const token = () => randomBytes(12).toString('hex');
const grant = () => JSON.stringify({ client_id: token(), client_secret: token(), refresh_token: token() });

/** Every secret the agent could use, stored; the names the connectors read again are recorded. */
function recordingSource(stored: ReadonlyMap<string, string>): { source: SecretSource; reread: Set<string> } {
  const reread = new Set<string>();
  const versioned = (name: string) => {
    reread.add(name);
    const value = stored.get(name);
    return value === undefined ? null : { value, version: 1 };
  };
  const source: SecretSource = {
    start: async () => undefined,
    readSecrets: async () => stored,
    readSecretData: async (name) => {
      const found = versioned(name);
      return found === null ? null : { value: found.value };
    },
    readSecretVersion: async (name) => versioned(name),
    writeSecret: async () => undefined,
    dataKey: () => Buffer.alloc(32),
    revoked: false,
    onRevoked: () => () => undefined,
    stop: async () => undefined,
  };
  return { source, reread };
}

async function secretsReadAgain(provider: 'gmail' | 'outlook'): Promise<Set<string>> {
  const parsed = parseClientConfig({
    client: 'acme',
    provider,
    mailbox: 'jane@acme.example',
    admins: ['ops@acme.example'],
    permissions: { 'mail.read': true, 'mail.send': true, 'calendar.read': true, 'crm.read': true, 'crm.write': true },
  });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const stored = new Map([
    ['gmail', grant()],
    ['outlook', grant()],
    ['anthropic', token()],
    ['bullhorn', grant()],
  ]);
  const { source, reread } = recordingSource(stored);
  const built = await connectorsFromSecrets({})({ config: parsed.config, secrets: stored, source, logger: createSilentLogger() });
  assert.ok(!('missing' in built), `${provider}: connected`);
  // The CRM's secret is read again from the store each round once the CRM refused it (crm-work.ts).
  if (built.crm !== null) reread.add(built.crm.secret);
  return reread;
}

describe('the secrets a running agent reads again', () => {
  test('are exactly the kernel’s LIVE_SECRETS, over both mailbox providers', async () => {
    const reread = new Set([...(await secretsReadAgain('gmail')), ...(await secretsReadAgain('outlook'))]);
    assert.deepEqual([...reread].sort(), Object.keys(LIVE_SECRETS).sort());
  });

  test('each one is told apart by the CLI from a secret read only at the next connect', () => {
    const reconnectOnly = formatSecretStored('acme', 'calendar-extra', 1).replace('calendar-extra', '');
    for (const name of Object.keys(LIVE_SECRETS)) {
      assert.notEqual(formatSecretStored('acme', name, 1).replace(name, ''), reconnectOnly, name);
    }
    assert.match(formatSecretStored('acme', 'gmail', 1), /once it has checked which account it opens/, 'a Gmail grant is checked before use');
    assert.doesNotMatch(formatSecretStored('acme', 'outlook', 1), /checked which account/);
    assert.equal(secretPickUp('toString'), null, 'an inherited property is no secret name');
    assert.equal(secretPickUp('__proto__'), null);
  });
});
