// The journal-anchor test bed: one client's agent (AgentRuntime over a real volume in a temporary
// directory) whose secret source is an in-memory stand-in of its Vault KV path.
import { JOURNAL_ANCHOR_SECRET, parseAnchorDocument } from '@agent-fleet/kernel/journal-anchor';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import { AgentRuntime } from '../../../agent-image/src/services/runtime/agent-runtime.ts';

const directories: string[] = [];

/** Removes every directory the bed made (call from `after`). */
export async function removeBedDirectories(): Promise<void> {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
}

/** The client's KV path in Vault, shared by every token the agent is introduced with. */
export class MemoryVault {
  readonly kv = new Map<string, string>();
  /** While set, every call fails as an unreachable Vault does. */
  down = false;
  /** Secrets whose reads fail as an unreachable Vault does (the others answer). */
  readonly unreachable = new Set<string>();

  check(what: string): void {
    if (this.down) throw new FleetError('unavailable', `vault: ${what} failed: connection refused`, { retryable: true });
  }
}

export class VaultBackedSource implements SecretSource {
  private readonly vault: MemoryVault;
  private readonly key: Buffer;
  revoked = false;
  /** Set by stop(): the token revoked and the renewal timers cleared. */
  stopped = false;

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
    if (this.vault.unreachable.has(name)) throw new FleetError('unavailable', `vault: read ${name} failed: connection refused`, { retryable: true });
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
  async stop(): Promise<void> {
    this.stopped = true;
  }
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

export async function client() {
  const dataDir = await mkdtemp(join(tmpdir(), 'volume-rollback-'));
  directories.push(dataDir);
  const vault = new MemoryVault();
  const key = randomBytes(32);
  /** One agent process: introduced, and stopped by the caller. A config the volume has not seen is a new settings version. */
  const start = async (timezone = 'Europe/London') => {
    const registry = new Registry();
    const errors: string[] = [];
    const sources: VaultBackedSource[] = [];
    const options = {
      // Passed on to openVolume with the rest of the runtime's options: a Vault outage at open is waited out briefly.
      anchorRetry: { attempts: 2, delayMs: 10 },
      config: config(timezone),
      dataDir,
      logger: recordingLogger(errors),
      metrics: new AgentMetrics(registry, { client: 'acme', version: '1.0.0' }),
      vaultAddr: 'https://127.0.0.1:8200',
      secretSource: () => {
        const source = new VaultBackedSource(vault, key);
        sources.push(source);
        return source;
      },
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
    return { runtime, chainValid, errors, introduce, sources };
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

export async function auditFile(dataDir: string): Promise<string> {
  const names = (await readdir(join(dataDir, 'audit'))).filter((name) => name.endsWith('.log')).sort();
  const last = names.at(-1);
  assert.ok(last !== undefined);
  return join(dataDir, 'audit', last);
}
