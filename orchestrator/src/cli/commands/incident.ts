import path from 'node:path';
import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { INCIDENT_SEVERITIES, type IncidentSeverity } from '../../ports/incident-store.ts';
import { NOTIFICATION_CHANNELS, type NotificationChannel } from '../../services/incidents/incident-transitions.ts';
import type { CliContext } from '../cli-context.ts';
import { chooseEvidence } from '../evidence-choice.ts';
import { downloadVerifiedArchive } from '../export-download.ts';
import { formatContained, formatEvidence, formatEvidenceCopied, formatIncident, formatIncidentList } from '../format/incident.ts';
import { isoTimeOption } from '../options.ts';
import { checkedNewFile, writeNewFileAtomically } from './incident-report-file.ts';

function severityOption(value: string): IncidentSeverity {
  if (!INCIDENT_SEVERITIES.includes(value as IncidentSeverity)) {
    throw new FleetError('invalid_input', `--severity must be one of ${INCIDENT_SEVERITIES.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as IncidentSeverity;
}

function channelOption(value: string): NotificationChannel {
  if (!NOTIFICATION_CHANNELS.includes(value as NotificationChannel)) {
    throw new FleetError('invalid_input', `--channel must be one of ${NOTIFICATION_CHANNELS.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as NotificationChannel;
}

/** The `<id>` argument's parser: checked as the command line is read, before the service is started or asked. */
function incidentId(value: string): string {
  if (!/^INC-[1-9][0-9]{0,17}$/.test(value)) throw new FleetError('invalid_input', `an incident id looks like INC-7 (got ${JSON.stringify(value)})`);
  return value;
}

/** `--format` of the report, or the one its `--out` file name implies. */
function reportFormat(format: string | undefined, out: string | undefined): 'markdown' | 'html' {
  const chosen = format ?? (out?.toLowerCase().endsWith('.html') ? 'html' : 'markdown');
  if (chosen !== 'markdown' && chosen !== 'html') throw new FleetError('invalid_input', '--format must be markdown or html');
  return chosen;
}

/** incident open, list, show, contain, evidence, evidence-copy, note, confirm, notify, close, report: the spec's incident response. */
export function registerIncidentCommands(program: Command, context: CliContext): void {
  const incident = program.command('incident').description('incident response: clocks by severity, containment, sealed evidence, client notification, post-incident report');
  const api = async () => (await context.api()).incidents;
  incident
    .command('open')
    .description('open an incident; its clocks start now (response by severity, assessment 4 h, report 7 days)')
    .requiredOption('--severity <level>', `${INCIDENT_SEVERITIES.join(' | ')}`)
    .requiredOption('--summary <text>', 'what was detected, one line')
    .option('--client <id...>', 'the affected clients')
    .action(async (options: { severity: string; summary: string; client?: string[] }) => {
      const severity = severityOption(options.severity);
      const clients = (options.client ?? []).map((client) => parseClientId(client));
      const view = await (await api()).open({ severity, summary: options.summary, clients });
      context.print(view, () => formatIncident(view));
    });
  incident
    .command('list')
    .description('the incidents not closed (with --all: every incident)')
    .option('--all', 'closed incidents too')
    .action(async (options: { all?: boolean }) => {
      const views = await (await api()).list(options.all === true);
      context.print(views, () => formatIncidentList(views));
    });
  incident
    .command('show')
    .argument('<id>', 'the incident, such as INC-7', incidentId)
    .action(async (id: string) => {
      const view = await (await api()).show(id);
      context.print(view, () => formatIncident(view));
    });
  incident
    .command('contain')
    .description('run the chosen containment steps for the incident’s clients (rotate, then revoke the OAuth grant, then kill), each recorded')
    .argument('<id>', 'the incident, such as INC-7', incidentId)
    .option('--kill', 'the kill switch: revoke the agent’s tokens, deny its policy, stop it')
    .option('--rotate', 'rotate the agent’s Vault token, data key and control token')
    .option('--revoke-oauth', 'revoke the mailbox grant at the provider where possible and delete the stored grant')
    .option('--client <id>', 'only this client of the incident')
    .option('--reason <text>', 'why, for the ops log (default: the incident’s summary)')
    .action(async (id: string, options: { kill?: boolean; rotate?: boolean; revokeOauth?: boolean; client?: string; reason?: string }) => {
      const chosen = { kill: options.kill === true, rotate: options.rotate === true, revokeOauth: options.revokeOauth === true };
      if (!chosen.kill && !chosen.rotate && !chosen.revokeOauth) throw new FleetError('invalid_input', 'choose at least one step: --kill, --rotate, --revoke-oauth');
      const client = options.client === undefined ? undefined : parseClientId(options.client);
      const result = await (await api()).contain(id, { ...chosen, client, reason: options.reason });
      context.print(result, () => formatContained(result));
      if (result.steps.some((step) => step.outcome === 'failed')) context.failWith('unavailable');
    });
  incident
    .command('evidence')
    .description('seal an evidence bundle per client (signed manifest, SHA-256 in the ops log)')
    .argument('<id>', 'the incident, such as INC-7', incidentId)
    .option('--client <id>', 'only this client of the incident')
    .action(async (id: string, options: { client?: string }) => {
      const client = options.client === undefined ? undefined : parseClientId(options.client);
      const result = await (await api()).evidence(id, client);
      context.print(result, () => formatEvidence(result));
    });
  incident
    .command('evidence-copy')
    .description('write a sealed bundle, decrypted, for investigators: a signed archive checked before it is kept (the copy is in the ops log)')
    .argument('<id>', 'the incident, such as INC-7', incidentId)
    .requiredOption('--out <file>', 'the archive to write (never replaced if it exists)')
    .option('--client <id>', 'the latest bundle of this client (needed when the incident names several)')
    .option('--bundle <name>', 'this bundle (its file name, as `fleet incident show` lists it)')
    .action(async (id: string, options: { out: string; client?: string; bundle?: string }) => {
      const client = options.client === undefined ? undefined : parseClientId(options.client);
      await checkedNewFile(options.out);
      const fleet = await context.api();
      const incidents = fleet.incidents;
      const view = await incidents.show(id);
      const chosen = chooseEvidence(view.incident.id, view.incident.evidence, { client, bundle: options.bundle });
      const bundle = path.basename(chosen.file);
      const result = await downloadVerifiedArchive({
        title: `evidence ${bundle}`,
        clientId: parseClientId(chosen.clientId),
        out: options.out,
        progressTo: context.json ? null : context.io.stdout,
        publicKeyPem: (await fleet.exportKey()).publicKeyPem,
        sha256: chosen.archiveSha256,
        download: (sink) => incidents.downloadEvidence(view.incident.id, bundle, sink),
      });
      context.print(
        { file: options.out, bundle, bytes: result.bytes, sha256: chosen.archiveSha256 ?? chosen.sha256, manifest: result.verification.manifest },
        () => formatEvidenceCopied(options.out, bundle, result.verification, result.bytes),
      );
    });
  incident
    .command('note')
    .argument('<id>', 'the incident, such as INC-7', incidentId)
    .requiredOption('--text <text>', 'what was found or done')
    .option('--assessment', 'this note is the assessment: scope and severity determined (stops the 4 h clock)')
    .action(async (id: string, options: { text: string; assessment?: boolean }) => {
      const view = await (await api()).note(id, options.text, options.assessment === true);
      context.print(view, () => formatIncident(view));
    });
  incident
    .command('confirm')
    .description('confirm a breach: the 24 h client notification clock starts')
    .argument('<id>', 'the incident, such as INC-7', incidentId)
    .requiredOption('--scope <text>', 'what was breached (data, clients, period)')
    .action(async (id: string, options: { scope: string }) => {
      const view = await (await api()).confirm(id, options.scope);
      context.print(view, () => formatIncident(view));
    });
  incident
    .command('notify')
    .description('record that (and when, by whom, how) a client was told')
    .argument('<id>', 'the incident, such as INC-7', incidentId)
    .requiredOption('--channel <how>', NOTIFICATION_CHANNELS.join(' | '))
    .option('--client <id>', 'the client told (needed when the incident names several)')
    .option('--at <time>', 'when they were told (ISO date-time; default now)')
    .option('--by <member>', 'who told them (default you)')
    .option('--recipient <who>', 'who at the client was told')
    .action(async (id: string, options: { channel: string; client?: string; at?: string; by?: string; recipient?: string }) => {
      const channel = channelOption(options.channel);
      const client = options.client === undefined ? undefined : parseClientId(options.client);
      const at = options.at === undefined ? undefined : isoTimeOption('--at', options.at);
      const view = await (await api()).notify(id, { channel, client, at, by: options.by, recipient: options.recipient });
      context.print(view, () => formatIncident(view));
    });
  incident
    .command('close')
    .argument('<id>', 'the incident, such as INC-7', incidentId)
    .requiredOption('--root-cause <text>', 'what caused it')
    .requiredOption('--lessons <text>', 'lessons learned: what changes in the procedures')
    .option('--remediation <text>', 'what was fixed, restored from clean state')
    .option(
      '--containment-override <reason>',
      'close although a containment step failed and never held: why that is safe (kept in the incident record and its report)',
    )
    .action(async (id: string, options: { rootCause: string; lessons: string; remediation?: string; containmentOverride?: string }) => {
      if (options.containmentOverride !== undefined && options.containmentOverride.trim() === '') {
        throw new FleetError('invalid_input', '--containment-override needs the reason closing is safe although containment never held');
      }
      const view = await (await api()).close(id, options);
      context.print(view, () => formatIncident(view));
    });
  incident
    .command('report')
    .description('render the post-incident report (final once closed): Markdown or HTML')
    .argument('<id>', 'the incident, such as INC-7', incidentId)
    .option('--format <format>', 'markdown | html (default: from --out, else markdown)')
    .option('--out <file>', 'write the report to this file instead of printing it')
    .option('--client <id>', "the report for this one of the incident's clients: the others and what was done to them are left out")
    .option(
      '--include-incident-text',
      "with --client, of an incident of several clients: include the text written for the whole incident (summary, scope, causes, notes), which may name the other clients; read it first (withheld by default)",
    )
    .action(async (id: string, options: { format?: string; out?: string; client?: string; includeIncidentText?: boolean }) => {
      const format = reportFormat(options.format, options.out);
      const client = options.client === undefined ? undefined : parseClientId(options.client);
      if (options.includeIncidentText === true && client === undefined) {
        throw new FleetError('invalid_input', '--include-incident-text applies to a client\'s report only: add --client <id>');
      }
      if (options.out !== undefined) await checkedNewFile(options.out);
      const report = await (await api()).report(id, client, options.includeIncidentText === true);
      const body = format === 'html' ? report.html : report.markdown;
      if (options.out !== undefined) await writeNewFileAtomically(options.out, body);
      const summary = `${report.final ? 'final' : 'draft'} report of ${report.incident.id}${options.out === undefined ? '' : ` written to ${options.out}`}`;
      if (context.json) context.print({ final: report.final, format, out: options.out ?? null, report: options.out === undefined ? body : undefined }, () => summary);
      else context.printText(options.out === undefined ? body : `${summary}\n`);
    });
}
