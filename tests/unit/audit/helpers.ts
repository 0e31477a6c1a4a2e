import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditAppend } from '../../../agent-image/src/services/audit-log/audit-log.ts';

export async function temporaryDirectory(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `agent-fleet-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function dataKey(): Buffer {
  return randomBytes(32);
}

export function sendEntry(index: number): AuditAppend {
  return {
    action_type: 'email_send',
    actor: 'agent',
    target: `client${index}@example.com`,
    parameters: { subject: `Invoice #${index}`, recipients: 1 },
    approval_status: 'approved',
    approved_by: 'human',
    result: 'success',
  };
}

export async function readLines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line.length > 0);
}

export async function writeLines(path: string, lines: string[]): Promise<void> {
  await writeFile(path, lines.map((line) => `${line}\n`).join(''));
}
