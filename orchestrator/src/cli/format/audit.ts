import type { AuditReanchorResult, AuditVerifyResult } from '../fleet-api-client.ts';

/** `fleet audit verify`: intact with its record count, or where and how the chain breaks. */
export function formatAuditVerification(clientId: string, result: AuditVerifyResult): string {
  const { verification } = result;
  if (verification.ok) {
    return `audit log of ${clientId} intact: ${verification.count} records${result.checkpoint ? ', consistent with the last checkpoint' : ''}.`;
  }
  return `AUDIT LOG OF ${clientId} BROKEN: ${verification.break?.kind} at seq ${verification.break?.seq}: ${verification.break?.message}`;
}

/** `fleet audit reanchor`: where the checkpoint is now, and what it replaced (kept in the ops log). */
export function formatAuditReanchor(clientId: string, result: AuditReanchorResult): string {
  const was = result.previous === null ? 'there was none' : `it was at record ${result.previous.seq} (${result.previous.at}); the ops log keeps it`;
  return `audit checkpoint of ${clientId} re-anchored at record ${result.checkpoint.seq}: ${was}.`;
}
