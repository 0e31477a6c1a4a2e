import type { ClientRecord } from '../../ports/registry.ts';
import { STALE_OPERATION_MS } from '../operation-heartbeat.ts';

/**
 * A provisioning whose operation stopped beating (its orchestrator died) or released its claim, judged as
 * the registry judges a claim it may take over: nothing will ever finish it. Erasure and deprovisioning take
 * it over.
 */
export function provisioningAbandoned(client: Pick<ClientRecord, 'operationHeartbeatAt'>, now: Date): boolean {
  if (client.operationHeartbeatAt === null) return true;
  const beat = Date.parse(client.operationHeartbeatAt);
  return Number.isNaN(beat) || now.getTime() - beat >= STALE_OPERATION_MS;
}

/**
 * Whether an operation holds the client right now: a provisioning or a closure (deprovision, erasure) whose
 * heartbeat is fresh. The registry's claim refuses such a client; this says so before anything is touched.
 */
export function operationLive(client: Pick<ClientRecord, 'status' | 'operationHeartbeatAt'>, now: Date): boolean {
  return (client.status === 'provisioning' || client.status === 'deprovisioning') && !provisioningAbandoned(client, now);
}
