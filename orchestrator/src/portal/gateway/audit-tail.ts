import { Writable } from 'node:stream';
import type { AuditEvent } from '../client-gateway.ts';

/** The fields of an agent audit record (JSONL export) the portal shows. */
interface ExportedRecord {
  seq?: unknown;
  timestamp?: unknown;
  action_type?: unknown;
  actor?: unknown;
  target?: unknown;
  result?: unknown;
  approval_status?: unknown;
}

export function auditEventOf(line: string): AuditEvent | null {
  let record: ExportedRecord;
  try {
    record = JSON.parse(line) as ExportedRecord;
  } catch {
    return null;
  }
  if (
    typeof record.seq !== 'number' ||
    typeof record.timestamp !== 'string' ||
    typeof record.action_type !== 'string'
  )
    return null;
  return {
    seq: record.seq,
    at: record.timestamp,
    type: record.action_type,
    actor: typeof record.actor === 'string' ? record.actor : '',
    target: typeof record.target === 'string' ? record.target : null,
    result: typeof record.result === 'string' ? record.result : '',
    approval: typeof record.approval_status === 'string' ? record.approval_status : '',
  };
}

/**
 * A sink for the agent's JSONL audit export that keeps only the last `limit` records matching `accept`,
 * so that a long log streams through in bounded memory.
 */
export class AuditTail extends Writable {
  private readonly limit: number;
  private readonly accept: (event: AuditEvent) => boolean;
  private readonly kept: AuditEvent[] = [];
  private partial = '';

  constructor(limit: number, accept: (event: AuditEvent) => boolean) {
    super();
    this.limit = limit;
    this.accept = accept;
  }

  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    const lines = (this.partial + chunk.toString()).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.take(line);
    callback();
  }

  /** Newest first. */
  events(): AuditEvent[] {
    if (this.partial !== '') {
      this.take(this.partial);
      this.partial = '';
    }
    return [...this.kept].reverse();
  }

  private take(line: string): void {
    if (line.trim() === '') return;
    const event = auditEventOf(line);
    if (!event || !this.accept(event)) return;
    this.kept.push(event);
    if (this.kept.length > this.limit) this.kept.shift();
  }
}
