import { formatAuditExport } from '@agent-fleet/kernel/audit-export-format';
import { approvalStatusAt } from '../../domain/approval.ts';
import type { AuditRecord } from '../../domain/audit-record.ts';
import { buildSummaryReport } from '../daily-summary/summary-report.ts';
import type { VolumeReader } from './volume-reader.ts';

/**
 * The parts of a client's data the agent hands out for the complete export, each a stream of text in a
 * standard format. The orchestrator asks for them by name and never sees the volume itself.
 */
export const EXPORT_PARTS = ['audit.jsonl', 'approvals.jsonl', 'outbox.jsonl', 'summaries.jsonl', 'settings.jsonl', 'state.jsonl', 'config.yaml'] as const;
export type ExportPart = (typeof EXPORT_PARTS)[number];

export function isExportPart(name: string): name is ExportPart {
  return (EXPORT_PARTS as readonly string[]).includes(name);
}

const SUMMARY_KINDS = new Set(['daily_summary', 'weekly_digest']);
const DAY_MS = 86_400_000;

/** The text of one part, produced lazily. */
/** One part of the client's data; `startedConfigYaml` is the config the agent started with (null: none). */
export function exportPart(part: ExportPart, reader: VolumeReader, now: Date, startedConfigYaml: string | null = null): AsyncGenerator<string> {
  switch (part) {
    case 'audit.jsonl':
      return formatAuditExport('jsonl', reader.auditRecords());
    case 'approvals.jsonl':
      return approvalLines(reader, now);
    case 'outbox.jsonl':
      return outboxLines(reader);
    case 'summaries.jsonl':
      return summaryLines(reader);
    case 'settings.jsonl':
      return jsonLines(reader.settingsVersions());
    case 'state.jsonl':
      return jsonLines(reader.stateEvents());
    case 'config.yaml':
      return configText(startedConfigYaml);
  }
}

async function* jsonLines(values: AsyncIterable<unknown>): AsyncGenerator<string> {
  for await (const value of values) yield `${JSON.stringify(value)}\n`;
}

/** Each approval: what was proposed (the draft), why it needed a human, the decision and what ran. */
async function* approvalLines(reader: VolumeReader, now: Date): AsyncGenerator<string> {
  for (const entry of await reader.approvals()) {
    yield `${JSON.stringify({
      ...entry.record,
      status: approvalStatusAt(entry.record, now),
      execution: entry.execution,
      idempotencyKey: entry.idempotencyKey,
      messageId: entry.messageId,
      draftId: entry.draftId,
      preview: entry.preview,
    })}\n`;
  }
}

async function* outboxLines(reader: VolumeReader): AsyncGenerator<string> {
  for (const entry of await reader.outbox()) yield `${JSON.stringify(entry)}\n`;
}

async function* configText(text: string | null): AsyncGenerator<string> {
  if (text !== null) yield text;
}

/**
 * One report per UTC day that has audit records (what the daily summary counts, recomputed from the
 * log), then every summary and digest actually emailed to the admins, as they were sent.
 */
async function* summaryLines(reader: VolumeReader): AsyncGenerator<string> {
  const summaryKeys = new Set<string>();
  let day: string | null = null;
  let records: AuditRecord[] = [];
  const report = (): string => {
    const from = new Date(`${day}T00:00:00.000Z`);
    const body = buildSummaryReport(records, records, { from, to: new Date(from.getTime() + DAY_MS) });
    return `${JSON.stringify({ kind: 'daily-report', day, report: body })}\n`;
  };
  for await (const record of reader.auditRecords()) {
    const kind = record.parameters['kind'];
    const key = record.parameters['idempotency_key'];
    if (typeof kind === 'string' && SUMMARY_KINDS.has(kind) && typeof key === 'string') summaryKeys.add(key);
    const recordDay = record.timestamp.slice(0, 10);
    if (day !== null && recordDay !== day) {
      yield report();
      records = [];
    }
    day = recordDay;
    records.push(record);
  }
  if (day !== null) yield report();
  for (const entry of await reader.outbox()) {
    if (!summaryKeys.has(entry.idempotencyKey)) continue;
    yield `${JSON.stringify({
      kind: 'sent-summary',
      idempotencyKey: entry.idempotencyKey,
      status: entry.status,
      sentAt: entry.receipt?.sentAt ?? null,
      to: entry.message.to,
      subject: entry.message.subject,
      text: entry.message.text,
    })}\n`;
  }
}
