import { verifyOpsLogPages, type OpsLogVerification } from '../domain/ops-log-chain.ts';
import type { Registry } from '../ports/registry.ts';

/** Entries read at a time by a verification: a few hundred kilobytes, whatever the log's length. */
export const OPS_LOG_VERIFY_PAGE_SIZE = 500;

/**
 * Verifies the registry's whole ops log against its head checkpoint, page by page: the memory it takes is
 * bounded by a page (and the clients with erased entries), not by the log, which only ever grows.
 */
export async function verifyStoredOpsLog(
  registry: Pick<Registry, 'opsLogHeadCheckpoint' | 'readOpsLogPages'>,
  pageSize: number = OPS_LOG_VERIFY_PAGE_SIZE,
): Promise<OpsLogVerification> {
  // The checkpoint first: an append between the two reads then leaves the entries ahead of it, not behind.
  const checkpoint = (await registry.opsLogHeadCheckpoint?.()) ?? null;
  return verifyOpsLogPages(registry.readOpsLogPages({ pageSize }), checkpoint);
}
