// A rollback of the client's volume (files cut back to an earlier record, or an older copy swapped in) as
// the agent lives it: the heads of its journals are recorded outside the volume, in its own Vault path,
// and an agent whose volume no longer reaches them does not act. A restore through the orchestrator resets
// that record, so the restored volume opens and its heads are recorded.
import { JOURNAL_ANCHOR_SECRET, parseAnchorDocument } from '@agent-fleet/kernel/journal-anchor';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import { AgentRuntime } from '../../../agent-image/src/services/runtime/agent-runtime.ts';
import { resetJournalAnchor } from '../../../orchestrator/src/services/backup/journal-anchor-reset.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

/** The client's KV path in Vault, shared by every token the agent is introduced with. */
class MemoryVault {
  readonly kv = new Map<string, string>();
  /** While set, every call fails as an unreachable Vault does. */
  down = false;

  check(what: string): void {
    if (this.down) throw new FleetError('unavailable', `vault: ${what} failed: connection refused`, { retryable: true });
  }
}

class VaultBackedSource implements SecretSource {
  private readonly vault: MemoryVault;
  private readonly key: Buffer;
  revoked = false;

  constructor(vault: MemoryVault, key: Buffer) {
    this.vault = vault;
    this.key = key;
  }

  async start(): Promise<void> {}
  async readSecrets(): Promise<ReadonlyMap<string, string>> {
    this.vault.check('list secrets');
    return new Map();
  }
  async readSecretData(name: string): Promise<Readonly<Record<string, string>> | null> {
    this.vault.check('read secret');
    const value = this.vault.kv.get(name);
    return value === undefined ? null : { value };
  }
  async writeSecret(name: string, value: string): Promise<void> {
    this.vault.check('write secret');
    this.vault.kv.set(name, value);
  }
  dataKey(): Buffer {
    return this.key;
  }
  onRevoked(): () => void {
    return () => undefined;
  }
  async stop(): Promise<void> {}
}

/** A logger keeping what the agent logged as errors (the operator's view of a refusal). */
function recordingLogger(errors: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message, fields) => errors.push(`${message} ${JSON.stringify(fields ?? {}, (_key, value: unknown) => (value instanceof Error ? value.message : value))}`),
    child: () => logger,
  };
  return logger;
}

function config(timezone: string) {
  const parsed = parseClientConfig({ client: 'acme', timezone, workingHours: { start: '09:00', end: '17:00' } });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

async function client() {
  const dataDir = await mkdtemp(join(tmpdir(), 'volume-rollback-'));
  directories.push(dataDir);
  const vault = new MemoryVault();
  const key = randomBytes(32);
  /** One agent process: introduced, and stopped by the caller. A config the volume has not seen is a new settings version. */
  const start = async (timezone = 'Europe/London') => {
    const registry = new Registry();
    const errors: string[] = [];
    const options = {
      // Passed on to openVolume with the rest of the runtime's options: a Vault outage at open is waited out briefly.
      anchorRetry: { attempts: 2, delayMs: 10 },
      config: config(timezone),
      dataDir,
      logger: recordingLogger(errors),
      metrics: new AgentMetrics(registry, { client: 'acme', version: '1.0.0' }),
      vaultAddr: 'https://127.0.0.1:8200',
      secretSource: () => new VaultBackedSource(vault, key),
      connectors: async () => ({ missing: ['gmail'] }),
      syncIntervalMs: 0,
      sweepIntervalMs: 0,
      scheduleSummary: false,
      watchCheckIntervalMs: 0,
    };
    const runtime = new AgentRuntime(options);
    const introduce = () => runtime.introduce({ wrappingToken: `wrap-${randomBytes(4).toString('hex')}`, creationPath: 'auth/token/create/fleet-acme' }).catch(() => undefined);
    await introduce();
    const chainValid = async () => (await registry.getSingleMetric('agent_audit_chain_valid')?.get())?.values[0]?.value;
    return { runtime, chainValid, errors, introduce };
  };
  /** A run that appends to the audit log and the state journal (a kill, then its revival). */
  const work = async (timezone = 'Europe/London') => {
    const { runtime } = await start(timezone);
    assert.equal(runtime.readiness().ready, true);
    await runtime.killAgent('drill', 'ops');
    await runtime.revive('drill over', 'ops');
    await runtime.stop();
  };
  const anchored = () => {
    const value = vault.kv.get(JOURNAL_ANCHOR_SECRET);
    return value === undefined ? null : parseAnchorDocument(value);
  };
  const copyVolume = async () => {
    const copy = await mkdtemp(join(tmpdir(), 'volume-copy-'));
    directories.push(copy);
    await cp(dataDir, copy, { recursive: true });
    return copy;
  };
  const putBack = async (copy: string) => {
    await rm(dataDir, { recursive: true, force: true });
    await cp(copy, dataDir, { recursive: true });
  };
  return { dataDir, vault, start, work, anchored, copyVolume, putBack };
}

async function auditFile(dataDir: string): Promise<string> {
  const names = (await readdir(join(dataDir, 'audit'))).filter((name) => name.endsWith('.log')).sort();
  const last = names.at(-1);
  assert.ok(last !== undefined);
  return join(dataDir, 'audit', last);
}

describe('journal heads anchored outside the volume', () => {
  test('a new client starts without an anchor and records its heads', async () => {
    const { start, anchored } = await client();
    assert.equal(anchored(), null);
    const { runtime } = await start();
    assert.equal(runtime.readiness().ready, true);
    await runtime.stop();
    const document = anchored();
    assert.equal(document?.kind, 'heads');
    assert.ok(document?.kind === 'heads' && document.heads['audit'] !== undefined, 'the audit head is recorded');
  });

  test('an audit log cut back to an earlier record is refused at open: the agent does not act and the chain gauge is 0', async () => {
    const { dataDir, work, start } = await client();
    await work();
    const file = await auditFile(dataDir);
    const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
    // Every remaining record still verifies: only the anchor can tell the last one is gone.
    await writeFile(file, `${lines.slice(0, -1).join('\n')}\n`);
    const { runtime, chainValid } = await start();
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'audit_chain_broken' });
    assert.equal(await chainValid(), 0);
    await runtime.stop();
  });

  test('an older copy of the whole volume is refused, and the same copy restored through the orchestrator opens', async () => {
    const { work, start, copyVolume, putBack, vault, anchored } = await client();
    await work();
    const backup = await copyVolume();
    const before = anchored();
    await work('Europe/Paris');
    const later = anchored();
    await putBack(backup);
    const refused = await start();
    assert.deepEqual(refused.runtime.readiness(), { ready: false, reason: 'audit_chain_broken' });
    await refused.runtime.stop();

    // What `fleet restore` does between stopping the agent and swapping the backup in.
    const secrets = {
      writeSecret: async (_clientId: unknown, name: string, value: string) => {
        vault.kv.set(name, value);
        return { version: 1 };
      },
    };
    await resetJournalAnchor(secrets, parseClientId('acme'), 'restore of b-1', new Date());
    await putBack(backup);
    const restored = await start();
    assert.equal(restored.runtime.readiness().ready, true);
    assert.equal(await restored.chainValid(), 1);
    await restored.runtime.stop();
    const after = anchored();
    assert.ok(before?.kind === 'heads' && later?.kind === 'heads' && after?.kind === 'heads');
    assert.ok(before.heads['settings'] !== undefined && later.heads['settings'] !== undefined);
    assert.notDeepEqual(later.heads['settings'], before.heads['settings']);
    assert.deepEqual(after.heads['settings'], before.heads['settings'], 'the anchor moved back to where the backup left the journal');
    assert.ok((after.heads['audit']?.seq ?? 0) < (later.heads['audit']?.seq ?? 0), 'the audit anchor follows the restored chain');
  });

  test('an older copy of one journal alone (the audit log intact) is refused, naming the journal', async () => {
    const { dataDir, work, start, copyVolume } = await client();
    await work();
    const backup = await copyVolume();
    await work('Europe/Paris');
    await cp(join(backup, 'state', 'settings.log'), join(dataDir, 'state', 'settings.log'));
    const { runtime, errors } = await start('Europe/Paris');
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'audit_chain_broken' });
    assert.match(errors.join('\n'), /the settings journal does not hold its anchored head: it ends at event 1, before event 2 recorded in Vault.*fleet restore/);
    await runtime.stop();
  });

  test('Vault unreachable at open: the agent does not start, says why, and starts once Vault answers', async () => {
    const { work, start, vault, anchored } = await client();
    await work();
    vault.down = true;
    const { runtime, errors, introduce } = await start();
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'open_failed' });
    assert.match(errors.join('\n'), /could not read the journal heads recorded in Vault; the agent will not act until it can/);
    vault.down = false;
    await introduce();
    assert.equal(runtime.readiness().ready, true);
    await runtime.stop();
    assert.equal(anchored()?.kind, 'heads');
  });

  test('an anchor Vault holds but that cannot be read is not taken for none', async () => {
    const { work, start, vault } = await client();
    await work();
    vault.kv.set(JOURNAL_ANCHOR_SECRET, '{"format":1,"heads":{"audit":{"seq":"1"}}}');
    const { runtime, chainValid } = await start();
    assert.deepEqual(runtime.readiness(), { ready: false, reason: 'audit_chain_broken' });
    assert.equal(await chainValid(), 0);
    await runtime.stop();
  });
});
