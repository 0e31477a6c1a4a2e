// Kill-switch latency: from the kill command to the moment the agent's token is rejected by the store
// and its container is stopped, over repeated kills of real agents (revived between kills).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createVaultClient } from '../../orchestrator/src/adapters/vault/vault-client.ts';
import { loadConfig } from '../../orchestrator/src/config.ts';
import { createOrchestrator } from '../../orchestrator/src/orchestrator.ts';
import { removeClientResources } from '../helpers/fleet-fixture.ts';

const KILLS = Number(process.env.BENCH_KILLS ?? 50);
const docker = new Docker();
const homeDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-bench-kill-'));
const clientId = parseClientId(`kb${process.pid.toString(36)}`);
const config = loadConfig({ AGENT_FLEET_HOME: homeDir, EMBEDDED_VAULT_PORT: '0', RECONCILE_INTERVAL_SECONDS: '0' });
const orchestrator = await createOrchestrator(config, createSilentLogger());
const vault = orchestrator.secretBackend.embedded!;
const root = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function tokenRejected(accessors: string[]): Promise<boolean> {
  for (const accessor of accessors) {
    try {
      await root.write('auth/token/lookup-accessor', { accessor });
      return false;
    } catch {
      // revoked
    }
  }
  return true;
}

const samples: number[] = [];
let failures = 0;
try {
  await orchestrator.provision.provision({ clientId, actor: 'bench' });
  const own = ((await root.read('auth/token/lookup-self')) as { data: { accessor: string } }).data.accessor;
  for (let run = 0; run < KILLS; run++) {
    const accessors = [
      ...new Set(
        vault.requestLog
          .entries()
          .filter((e) => e.accessor && e.accessor !== own && e.path.includes(`/${clientId}/`) && e.status < 400)
          .map((e) => e.accessor!),
      ),
    ];
    const started = performance.now();
    await orchestrator.kill.kill({ clientId, reason: `bench kill ${run}`, actor: 'bench' });
    const elapsed = performance.now() - started;
    const stopped = !(await docker.getContainer(`fleet-${clientId}`).inspect()).State.Running;
    if (!stopped || !(await tokenRejected(accessors))) failures += 1;
    samples.push(elapsed);
    await orchestrator.revive.revive({ clientId, reason: 'bench revive', actor: 'bench' });
  }
} finally {
  await removeClientResources([clientId]);
  await orchestrator.close();
  await rm(homeDir, { recursive: true, force: true });
}

const sorted = [...samples].sort((a, b) => a - b);
const p99 = percentile(sorted, 99);
console.log(
  JSON.stringify(
    {
      bench: 'kill',
      kills: samples.length,
      failures,
      latencyMs: { p50: +percentile(sorted, 50).toFixed(1), p99: +p99.toFixed(1), max: +sorted.at(-1)!.toFixed(1) },
      definition: 'kill command start → returned with the token revoked (checked by accessor lookup) and the container stopped (checked by inspect)',
      targetP99Ms: 500,
      meetsTarget: p99 < 500 && failures === 0,
    },
    null,
    2,
  ),
);
