// An in-process agent runtime for acme, introduced to an in-memory Vault, with no mailbox connected and
// no timers running: for tests that drive kills, revives and approvals by hand.
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { AgentRuntime } from '../../../agent-image/src/services/runtime/agent-runtime.ts';
import { acmeConfig } from '../../helpers/agent-volume.ts';
import { MemoryVault, VaultBackedSource } from '../journal-anchor/agent-bed.ts';

/** The runtime on `dataDir`, introduced; `onConnect` runs each time it (re)connects the mailbox, which stays missing. */
export async function introducedRuntime(dataDir: string, onConnect: () => Promise<void> = async () => undefined): Promise<AgentRuntime> {
  const vault = new MemoryVault();
  const key = randomBytes(32);
  const runtime = new AgentRuntime({
    config: acmeConfig(),
    dataDir,
    logger: createSilentLogger(),
    metrics: new AgentMetrics(new Registry(), { client: 'acme', version: '1.0.0' }),
    vaultAddr: 'https://127.0.0.1:8200',
    secretSource: () => new VaultBackedSource(vault, key),
    connectors: async () => {
      await onConnect();
      return { missing: ['gmail'] };
    },
    syncIntervalMs: 0,
    sweepIntervalMs: 0,
    scheduleSummary: false,
    watchCheckIntervalMs: 0,
  });
  await runtime.introduce({ wrappingToken: `wrap-${randomBytes(4).toString('hex')}`, creationPath: 'auth/token/create/fleet-acme' });
  return runtime;
}
