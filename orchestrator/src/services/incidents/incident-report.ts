import { createHash } from 'node:crypto';
import path from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Clock } from '../../ports/clock.ts';
import type { IncidentRecord } from '../../ports/incident-store.ts';
import type { KeyWrapper } from '../../ports/key-wrapper.ts';
import type { OpsLogEntry, Registry } from '../../ports/registry.ts';
import type { ExportSigner } from '../export/export-signing-key.ts';
import { MAX_LINE_BYTES } from './bundle-lines.ts';
import { checkBundle, readBundleLines } from './bundle-reader.ts';
import { incidentClocks, type ClockSettings } from './incident-clocks.ts';
import { INCIDENT_ACTIONS, type IncidentService, type IncidentView } from './incident-service.ts';
import { issueReport, reportDelivers } from './incident-transitions.ts';
import {
  auditEventFrom,
  buildTimeline,
  incidentForClient,
  inIncidentTimeline,
  incidentWindow,
  MAX_AUDIT_EVENTS,
  sharesIncidentText,
  type AuditEvent,
  type ReportModel,
} from './report-model.ts';
import { renderReportHtml, renderReportMarkdown } from './report-render.ts';

/** Entries of the ops log read at a time for a report's timeline. */
const OPS_LOG_PAGE_SIZE = 500;

export interface ReportDependencies {
  incidents: IncidentService;
  registry: Registry;
  signer(): Promise<ExportSigner>;
  /** Unwraps a bundle's data key under its client's key. */
  keys: KeyWrapper;
  clock: Clock;
  clocks: ClockSettings;
}

export interface RenderedReport extends IncidentView {
  final: boolean;
  markdown: string;
  html: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * `fleet incident report`: the post-incident report (timeline, actions, root cause, lessons) as Markdown
 * and HTML. The client's audit events come from the latest evidence bundle sealed for it, used only when
 * its digest and signature still verify. Rendered after `close`, it is final; the report clock stops once
 * every affected client has had its final report (`--client`; the whole report for an incident of one
 * client or none). Before closing, it is a draft. Either way its digests go to the ops log.
 */
export class IncidentReportService {
  private readonly deps: ReportDependencies;

  constructor(deps: ReportDependencies) {
    this.deps = deps;
  }

  /**
   * `client`: the report of one of the incident's clients (for that client): its own steps, notices,
   * evidence, grants and timeline only. Of an incident of several clients, the text written for the whole
   * incident is withheld unless `includeIncidentText` (the operator read it for the others' details); the
   * ops log records which.
   */
  async render(request: { id: unknown; actor: string; client?: string | undefined; includeIncidentText?: boolean | undefined }): Promise<RenderedReport> {
    const current = await this.deps.incidents.require(request.id);
    const client = request.client;
    if (client !== undefined && !current.clients.includes(client)) {
      throw new FleetError('invalid_input', `${current.id} does not concern client ${JSON.stringify(client)}; its clients: ${current.clients.join(', ') || 'none'}`);
    }
    const now = this.deps.clock.now();
    const delivers = reportDelivers(current, client);
    const thisOne = delivers === undefined ? [] : [delivers];
    const reportedBefore = current.status === 'closed' ? await this.reportedClients(current) : [];
    const { incident: issued, final } = issueReport(current, now, [...reportedBefore, ...thisOne]);
    const shown = client === undefined ? issued : incidentForClient(issued, client);
    const incidentText = sharesIncidentText(current, client, request.includeIncidentText === true);
    const { events, sources } = await this.auditOf(shown, now);
    const view = await this.deps.incidents.view(issued);
    const model: ReportModel = {
      incident: shown,
      clocks: incidentClocks(issued, now, this.deps.clocks),
      timeline: buildTimeline(shown, await this.opsLogOf(shown, now), events, now, { incidentText }),
      auditSources: sources,
      grants: view.grants.filter((grant) => client === undefined || grant.clientId === client),
      generatedAt: now.toISOString(),
      final,
      incidentText: incidentText ? 'shown' : 'withheld',
    };
    const markdown = renderReportMarkdown(model);
    const html = renderReportHtml(model);
    // Logged before the clock is judged: of two clients' reports rendered at once, the later reader sees both.
    await this.deps.incidents.log(current, INCIDENT_ACTIONS.report, request.actor, null, {
      final,
      ...(client === undefined ? {} : { client, incidentText: model.incidentText }),
      markdownSha256: sha256(markdown),
      htmlSha256: sha256(html),
    });
    const stored = final ? await this.stopReportClock(current) : current;
    return { ...(await this.deps.incidents.view(stored)), final, markdown, html };
  }

  private async stopReportClock(incident: IncidentRecord): Promise<IncidentRecord> {
    const reported = await this.reportedClients(incident);
    return this.deps.incidents.change(incident.id, (record, at) => issueReport(record, at, reported).incident);
  }

  /** The owed reports that had their final one: from the final reports of the incident in the ops log. */
  private async reportedClients(incident: IncidentRecord): Promise<(string | null)[]> {
    const since = incident.closedAt === null ? undefined : new Date(incident.closedAt);
    const entries = await this.deps.registry.listOpsLog({ actions: [INCIDENT_ACTIONS.report], ...(since === undefined ? {} : { since }) });
    const delivered = entries
      .filter((entry) => entry.details['incident'] === incident.id && entry.details['final'] === true)
      .map((entry) => reportDelivers(incident, typeof entry.details['client'] === 'string' ? entry.details['client'] : undefined));
    return [...new Set(delivered.filter((owed): owed is string | null => owed !== undefined))];
  }

  /** The ops-log entries of the incident's timeline, read a page at a time: the report holds those, not the log. */
  private async opsLogOf(incident: IncidentRecord, now: Date): Promise<OpsLogEntry[]> {
    const entries: OpsLogEntry[] = [];
    for await (const page of this.deps.registry.readOpsLogPages({ pageSize: OPS_LOG_PAGE_SIZE })) {
      entries.push(...page.filter((entry) => inIncidentTimeline(incident, entry, now)));
    }
    return entries;
  }

  private async auditOf(incident: IncidentRecord, now: Date): Promise<{ events: AuditEvent[]; sources: ReportModel['auditSources'] }> {
    const inWindow = incidentWindow(incident, now);
    const events: AuditEvent[] = [];
    const sources: ReportModel['auditSources'] = [];
    const publicKeyPem = incident.evidence.length > 0 ? (await this.deps.signer()).publicKeyPem : '';
    for (const clientId of incident.clients) {
      const bundle = incident.evidence.filter((e) => e.clientId === clientId).at(-1);
      if (bundle === undefined) {
        sources.push({ clientId, note: 'no evidence bundle was sealed, so none are shown (fleet incident evidence).' });
        continue;
      }
      const name = path.basename(bundle.file);
      const check = await checkBundle(bundle, publicKeyPem, this.deps.keys);
      if (!check.ok) {
        sources.push({ clientId, note: `left out: the evidence bundle ${name} does not verify (${check.problem}).` });
        continue;
      }
      // Read a line at a time, keeping only the latest events of the window: the export may be gigabytes.
      const kept: AuditEvent[] = [];
      let records = 0;
      const read = await readBundleLines(bundle, 'audit/audit-log.jsonl', this.deps.keys, (line) => {
        const event = auditEventFrom(clientId, line);
        if (event === null) return;
        records += 1;
        if (!inWindow(event.timestamp)) return;
        kept.push(event);
        if (kept.length >= 2 * MAX_AUDIT_EVENTS) kept.splice(0, kept.length - MAX_AUDIT_EVENTS);
      });
      if (!read.found) {
        sources.push({ clientId, note: `the evidence bundle ${name} holds no audit export (see its incident/collection.json).` });
        continue;
      }
      events.push(...kept.slice(-MAX_AUDIT_EVENTS));
      const skipped = read.skipped === 0 ? '' : `; ${read.skipped} line(s) longer than ${MAX_LINE_BYTES} bytes skipped`;
      sources.push({ clientId, note: `from the evidence bundle ${name} (SHA-256 ${bundle.sha256}, digest, decryption and signature verified), ${records} records${skipped}.` });
    }
    return { events, sources };
  }
}
