import type { ClientRecord } from '../../ports/registry.ts';
import { STALE_OPERATION_MS } from '../provision-client.ts';

/**
 * A provisioning whose operation stopped beating (its orchestrator died), judged as provisioning itself
 * judges a claim it may take over: nothing will ever finish it. Erasure and deprovisioning take it over.
 */
export function provisioningAbandoned(client: Pick<ClientRecord, 'operationHeartbeatAt' | 'updatedAt'>, now: Date): boolean {
  const beat = Date.parse(client.operationHeartbeatAt ?? client.updatedAt);
  return Number.isNaN(beat) || now.getTime() - beat >= STALE_OPERATION_MS;
}
