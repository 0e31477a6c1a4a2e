import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { redact } from '@agent-fleet/kernel/logger';
import type { AgentForensics } from '../../ports/agent-forensics.ts';
import type { ContainerRuntime } from '../../ports/container-runtime.ts';
import type { Registry } from '../../ports/registry.ts';
import type { ExportEntry } from '../export/export-archive-writer.ts';
import { collectOpsLog } from './evidence-ops-log.ts';
import { failureDetail } from './failure-detail.ts';

/** How many of the agent's last log lines go into a bundle. */
export const AGENT_LOG_LINES = 5000;

/**
 * Most bytes of the agent's audit export a bundle holds. The agent may be the compromised party: an export
 * that never ends must not fill the orchestrator's disk. Past it, the bundle holds the beginning, marked partial.
 */
export const MAX_AUDIT_EXPORT_BYTES = 2 * 1024 ** 3;

/** Passes at most `limit` bytes on to `target`, then fails the writer (the export stops) and says it was cut. */
class CappedSink extends Writable {
  cut = false;
  readonly limit: number;
  private readonly target: Writable;
  private written = 0;

  constructor(target: Writable, limit: number) {
    super();
    this.target = target;
    this.limit = limit;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const room = this.limit - this.written;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.written += kept.length;
    if (kept.length < chunk.length) this.cut = true;
    const after = () => callback(this.cut ? new FleetError('invalid_input', `the audit export went past ${this.limit} bytes: cut there`) : null);
    if (kept.length === 0 || this.target.write(kept)) after();
    else this.target.once('drain', after);
  }
}

/** One part of an evidence bundle: in it, or why not. */
export interface EvidencePart {
  part: string;
  /** The file in the bundle; null when the part could not be collected. */
  file: string | null;
  note: string;
}

export interface EvidenceSources {
  registry: Registry;
  runtime: Pick<ContainerRuntime, 'inspectAgent'>;
  agents: {
    verifyAudit(clientId: unknown): Promise<{ verification: unknown; checkpoint: unknown }>;
    exportAudit(clientId: unknown, query: { format: 'jsonl' }, sink: NodeJS.WritableStream): Promise<void>;
  };
  /** The support gate: throws `forbidden` unless `member` holds an active grant for the client and this incident. */
  authorize(clientId: string, member: string, purpose: string, scope: { incident: string }): Promise<unknown>;
  /** Null where the runtime offers none (Kubernetes for now). */
  forensics: AgentForensics | null;
  /** The orchestrator's own metrics, as Prometheus scrapes them. */
  metricsSnapshot(): Promise<string>;
}

export interface CollectedEvidence {
  entries: ExportEntry[];
  parts: EvidencePart[];
}

const jsonEntry = (name: string, description: string, value: unknown): ExportEntry => {
  const bytes = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  return { name, description, size: bytes.length, open: () => [bytes] };
};

const textEntry = (name: string, description: string, text: string): ExportEntry => {
  const bytes = Buffer.from(text);
  return { name, description, size: bytes.length, open: () => [bytes] };
};

function reasonOf(error: unknown): string {
  return failureDetail(`${isFleetError(error) ? `${error.code}: ` : ''}${(error as Error).message}`);
}

/** An agent log line (`<time> <json or text>`), with secrets and message content masked. */
export function redactLogLine(line: string): string {
  const space = line.indexOf(' ');
  const time = space > 0 ? line.slice(0, space) : null;
  const rest = space > 0 ? line.slice(space + 1) : line;
  let record: unknown;
  try {
    record = JSON.parse(rest);
  } catch {
    record = { text: rest };
  }
  const fields = record !== null && typeof record === 'object' && !Array.isArray(record) ? record : { value: record };
  return JSON.stringify({ logged_at: time, ...(redact(fields) as Record<string, unknown>) });
}

/**
 * Collects the parts of one client's evidence bundle. A part that cannot be had (the agent stopped, no
 * support grant for the audit records) is recorded with the reason instead: evidence is sealed as it is.
 * `workDir` is a private directory for the audit export, removed by the caller.
 */
export async function collectEvidence(
  sources: EvidenceSources,
  input: { clientId: ClientId; incidentId: string; actor: string; workDir: string; incidentView: unknown; maxAuditExportBytes?: number },
): Promise<CollectedEvidence> {
  const { clientId, incidentId, actor } = input;
  const entries: ExportEntry[] = [jsonEntry('incident/incident.json', "The incident as this client's when the bundle was sealed: its record (this client's steps, notices and evidence), its clocks and this client's support grants naming it.", input.incidentView)];
  const parts: EvidencePart[] = [];
  const attempt = async (part: string, collect: () => Promise<ExportEntry | string>): Promise<void> => {
    try {
      const result = await collect();
      if (typeof result === 'string') {
        parts.push({ part, file: null, note: result });
        return;
      }
      entries.push(result);
      parts.push({ part, file: result.name, note: result.description });
    } catch (error) {
      parts.push({ part, file: null, note: `not collected: ${reasonOf(error)}` });
    }
  };

  await attempt('audit chain verification', async () =>
    jsonEntry('audit/verification.json', "The agent's verification of its whole audit chain against the checkpoint kept outside it.", await sources.agents.verifyAudit(clientId)),
  );
  await attempt('audit export', async () => {
    try {
      await sources.authorize(clientId, actor, `incident evidence ${incidentId}`, { incident: incidentId });
    } catch (error) {
      if (isFleetError(error) && error.code === 'forbidden') {
        return `left out: the audit records are client data, read only under an active support grant (fleet support request ${clientId} --incident ${incidentId} …); ${error.message}`;
      }
      throw error;
    }
    const file = path.join(input.workDir, 'audit-log.jsonl');
    const sink = createWriteStream(file, { mode: 0o600 });
    const capped = new CappedSink(sink, input.maxAuditExportBytes ?? MAX_AUDIT_EXPORT_BYTES);
    const exported = await sources.agents.exportAudit(clientId, { format: 'jsonl' }, capped).then(
      () => null,
      (error: unknown) => error,
    );
    sink.end();
    await finished(sink);
    if (exported !== null && !capped.cut) throw exported;
    const size = (await stat(file)).size;
    const description = capped.cut
      ? `PARTIAL: the client's audit log as the agent exported it, cut after its first ${size} bytes (the export went past ${capped.limit} bytes; JSON lines, hash-chained, the last line may be incomplete).`
      : "The client's audit log as the agent exported it (JSON lines, hash-chained).";
    return { name: 'audit/audit-log.jsonl', description, size, open: () => createReadStream(file) };
  });
  const opsLog = await collectOpsLog(sources.registry, { clientId, incidentId, file: path.join(input.workDir, 'ops-log-entries.jsonl') });
  entries.push({
    name: 'ops-log/entries.jsonl',
    description: `The ops-log entries of ${clientId} and of ${incidentId} (JSON lines, part of the fleet's hash chain).`,
    size: opsLog.sliceBytes,
    open: () => createReadStream(opsLog.sliceFile),
  });
  parts.push({ part: 'ops-log slice', file: 'ops-log/entries.jsonl', note: `${opsLog.sliceEntries} entries${opsLog.readProblem === null ? '' : ` (the log could not be read after its first ${opsLog.readEntries} entries: ${opsLog.readProblem})`}` });
  entries.push(jsonEntry('ops-log/verification.json', "Verification of the fleet's whole ops-log chain, and its head.", opsLog.verification));
  parts.push({ part: 'ops-log verification', file: 'ops-log/verification.json', note: `${opsLog.readEntries} entries verified` });

  const state = await sources.runtime.inspectAgent(clientId);
  entries.push(jsonEntry('runtime/state.json', "The agent workload's state as the orchestrator's runtime reports it.", state));
  parts.push({ part: 'runtime state', file: 'runtime/state.json', note: state ? state.status : 'no workload' });
  const forensics = sources.forensics;
  await attempt('runtime inspect', async () => {
    if (forensics === null) return 'left out: this runtime offers no inspect for evidence';
    const described = await forensics.describe(clientId);
    if (described === null) return 'left out: the client has no agent container';
    return jsonEntry('runtime/inspect.json', "The runtime's full description of the agent container (image, hardening, mounts, state), secrets masked.", redact(described));
  });
  await attempt('agent logs', async () => {
    if (forensics === null) return 'left out: this runtime offers no logs for evidence';
    const lines = await forensics.logs(clientId, AGENT_LOG_LINES);
    return textEntry('runtime/agent-logs.jsonl', `The agent's last ${AGENT_LOG_LINES} log lines at most, secrets and message content masked (JSON lines).`, lines.map((line) => `${redactLogLine(line)}\n`).join(''));
  });
  await attempt('orchestrator metrics', async () =>
    textEntry('metrics/orchestrator.prom', "The orchestrator's metrics at sealing time (Prometheus text format).", await sources.metricsSnapshot()),
  );
  await attempt('agent metrics', async () => {
    if (forensics === null) return 'left out: this runtime offers no metrics for evidence';
    if (!state?.running || !state.endpoints) return 'left out: the agent is not running';
    return textEntry('metrics/agent.prom', "The agent's own metrics at sealing time (Prometheus text format).", await forensics.scrapeMetrics(state.endpoints.metrics));
  });
  entries.push(jsonEntry('incident/collection.json', 'Every part of this bundle, or why it is left out.', parts));
  return { entries, parts };
}
