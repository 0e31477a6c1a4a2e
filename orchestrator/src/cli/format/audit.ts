import type { AuditVerifyResult } from '../fleet-api-client.ts';

/** `fleet audit verify`: intact with its record count, or where and how the chain breaks. */
export function formatAuditVerification(clientId: string, result: AuditVerifyResult): string {
  const { verification } = result;
  if (verification.ok) {
    return `audit log of ${clientId} intact: ${verification.count} records${result.checkpoint ? ', consistent with the last checkpoint' : ''}.`;
  }
  return `AUDIT LOG OF ${clientId} BROKEN: ${verification.break?.kind} at seq ${verification.break?.seq}: ${verification.break?.message}`;
}
