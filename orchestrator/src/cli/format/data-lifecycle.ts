import type { BackupInfo } from '../../ports/backup-store.ts';
import type { RestoreResult } from '../../services/backup/restore-client.ts';
import type { EraseOutcome } from '../../services/erasure/erase-client.ts';
import type { ErasureRequest } from '../../services/erasure/erasure-records.ts';
import type { ExportVerification } from '../../services/export/export-archive-verifier.ts';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export function formatExportWritten(out: string, verification: ExportVerification, bytes: number): string {
  const manifest = verification.manifest;
  return [
    `${out}: complete export of ${manifest?.clientId ?? '?'} (${manifest?.files.length ?? 0} files, ${mib(bytes)})`,
    `  signed by ${manifest?.signingKeyId ?? '?'}; checked against the fleet's public key (\`fleet export public-key\`)`,
  ].join('\n');
}

export function formatExportVerification(file: string, verification: ExportVerification): string {
  if (verification.ok) {
    const manifest = verification.manifest;
    return `${file}: OK — export of ${manifest?.clientId ?? '?'} made ${manifest?.createdAt ?? '?'}, ${manifest?.files.length ?? 0} files, signature and every digest verified`;
  }
  return [`${file}: NOT VALID (${verification.problems.length} problems)`, ...verification.problems.map((problem) => `  ${problem.kind}: ${problem.message}`)].join('\n');
}

export function formatBackupCreated(backup: BackupInfo & { frozen: boolean; stillPaused?: boolean }): string {
  const stored = `${backup.backupId}: backup of ${backup.clientId} stored (${mib(backup.sizeBytes)}, encrypted under the client's key${backup.frozen ? '; the agent was paused while its volume was read' : ''})`;
  if (backup.stillPaused !== true) return stored;
  return `${stored}\nWARNING: the agent could not be unpaused and does no work: \`fleet reconcile\` unpauses it (or \`docker unpause\` its container)`;
}

export function formatBackupList(backups: readonly BackupInfo[]): string {
  if (backups.length === 0) return 'no backups';
  return backups.map((backup) => `${backup.backupId}  ${backup.createdAt}  ${mib(backup.sizeBytes).padStart(10)}`).join('\n');
}

export function formatRestored(result: RestoreResult): string {
  const lines = [`${result.clientId}: restored from ${result.backupId} (${result.snapshot.files} files, ${mib(result.snapshot.bytes)})`];
  if (!result.started) lines.push('  the kill switch stays engaged: `fleet revive` starts the agent on the restored data');
  else lines.push('  the agent runs in a fresh container with a new secret introduction');
  if (result.chain) lines.push(`  audit chain: ${result.chain.message}`);
  return lines.join('\n');
}

export function formatErased(outcome: EraseOutcome): string {
  if (outcome.outcome === 'unknown-client') return `${outcome.clientId}: no such client (nothing erased)`;
  if (outcome.outcome === 'already-erased') return `already erased at ${outcome.erasedAt} (nothing to do)${outcome.certificate ? `; tombstone SHA-256 ${outcome.certificate.tombstoneSha256}` : ''}`;
  const certificate = outcome.certificate;
  return [
    `${certificate.clientId}: erased at ${certificate.erasedAt} for request ${certificate.requestId} (deadline ${certificate.deadline}${certificate.withinDeadline ? ', met' : ', MISSED'})`,
    ...certificate.steps.map((step) => `  ${step.what.padEnd(11)} ${step.outcome}: ${step.detail}`),
    `  tombstone SHA-256 ${certificate.tombstoneSha256}; the certificate is in the ops log (\`fleet ops-log --client ${certificate.clientId}\`) and in \`fleet export ${certificate.clientId}\``,
  ].join('\n');
}

export function formatErasureRequest(request: ErasureRequest): string {
  return `${request.requestId}: erasure of ${request.clientId} requested ${request.receivedAt}; due by ${request.deadline}${request.erasedAt ? `; done ${request.erasedAt}` : ''}`;
}

export function formatErasureRequests(requests: readonly ErasureRequest[]): string {
  if (requests.length === 0) return 'no open erasure requests';
  return requests.map((request) => `${request.clientId}  ${request.requestId}  received ${request.receivedAt}  due ${request.deadline}`).join('\n');
}
