// A credential rotation as the agent lives it: the orchestrator revokes the agent's Vault token first and
// introduces a new one a moment later. An agent that noticed the revocation in between (and paused, as a
// kill's revocation would have it) works again once its new token is adopted; a kill is never lifted that
// way. The connectors built before the rotation write what they must store (a refreshed OAuth token)
// through the new token, never the old, stopped one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import { AgentRuntime } from '../../../agent-image/src/services/runtime/agent-runtime.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

/** A secret source as the Vault one behaves: a stopped or revoked one refuses every call. */
class FakeSource implements SecretSource {
  readonly writes: Array<[string, string]> = [];
  private readonly key: Buffer;
  private readonly listeners = new Set<(reason: string) => void>();
  private state: 'new' | 'running' | 'revoked' | 'stopped' = 'new';

  constructor(key: Buffer) {
    this.key = key;
  }

  get revoked(): boolean {
    return this.state === 'revoked';
  }

  async start(): Promise<void> {
    this.state = 'running';
  }

  private check(what: string): void {
    if (this.state === 'revoked') throw new FleetError('killed', `${what}: the secret store revoked this agent`);
    if (this.state !== 'running') throw new FleetError('forbidden', `${what}: no token`);
  }

  async readSecrets(): Promise<ReadonlyMap<string, string>> {
    this.check('read secrets');
    return new Map([['gmail', '{}']]);
  }

  async readSecretData(): Promise<Readonly<Record<string, string>> | null> {
    this.check('read secret');
    return null;
  }

  async writeSecret(name: string, value: string): Promise<void> {
    this.check('write secret');
    this.writes.push([name, value]);
  }

  dataKey(): Buffer {
    return this.key;
  }

  onRevoked(listener: (reason: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Vault answers 403: the rotation's (or a kill's) revocation, noticed. */
  revoke(): void {
    this.state = 'revoked';
    for (const listener of this.listeners) listener('secret store answered 403 to renew token');
  }

  async stop(): Promise<void> {
    if (this.state === 'running') this.state = 'stopped';
  }
}

async function agent() {
  const parsed = parseClientConfig({ client: 'acme', timezone: 'Europe/London', workingHours: { start: '09:00', end: '17:00' } });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const dataDir = await mkdtemp(join(tmpdir(), 'rotation-introduction-'));
  directories.push(dataDir);
  const key = randomBytes(32);
  const sources: FakeSource[] = [];
  /** The secret source each build of the connectors was given. */
  const built: SecretSource[] = [];
  const runtime = new AgentRuntime({
    config: parsed.config,
    dataDir,
    logger: createSilentLogger(),
    metrics: new AgentMetrics(new Registry(), { client: 'acme', version: '1.0.0' }),
    vaultAddr: 'https://127.0.0.1:8200',
    secretSource: () => {
      const source = new FakeSource(key);
      sources.push(source);
      return source;
    },
    // No mailbox: the agent stays idle, but the connectors get their secret source as they always do.
    connectors: async ({ source }) => {
      built.push(source);
      return { missing: ['gmail'] };
    },
    syncIntervalMs: 0,
    sweepIntervalMs: 0,
    scheduleSummary: false,
    watchCheckIntervalMs: 0,
  });
  const introduce = () => runtime.introduce({ wrappingToken: `wrap-${sources.length + 1}`, creationPath: 'auth/token/create/fleet-acme' });
  // The revocation is handled asynchronously (audited and persisted): give it its turn.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
  return { runtime, sources, built, introduce, settle };
}

describe('a credential rotation, inside the agent', () => {
  test('a pause raised by the rotation\'s own revocation is lifted once the new token is adopted', async () => {
    const { runtime, sources, introduce, settle } = await agent();
    await introduce();
    assert.equal(runtime.status().paused, null);
    sources[0]!.revoke();
    await settle();
    assert.equal(runtime.status().paused, 'auth', 'a revoked token pauses the agent');
    await introduce();
    assert.equal(runtime.status().vault, 'ok');
    assert.equal(runtime.status().paused, null, 'the new token ends the pause its predecessor\'s revocation raised');
    await runtime.stop();
  });

  test('a kill is not lifted by a new token', async () => {
    const { runtime, sources, introduce, settle } = await agent();
    await introduce();
    await runtime.killAgent('compromised', 'ops');
    sources[0]!.revoke();
    await settle();
    await introduce();
    assert.equal(runtime.status().killed, true);
    await runtime.stop();
  });

  test('connectors built before the rotation store secrets through the new token', async () => {
    const { runtime, sources, built, introduce } = await agent();
    await introduce();
    await introduce();
    assert.equal(sources.length, 2);
    const source = built.at(-1);
    assert.ok(source !== undefined);
    await source.writeSecret('gmail', '{"refresh_token":"rotated"}');
    assert.deepEqual(sources[1]?.writes, [['gmail', '{"refresh_token":"rotated"}']]);
    await runtime.stop();
  });
});
