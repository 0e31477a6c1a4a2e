import type { ContainmentStepName, IncidentRecord } from '../../ports/incident-store.ts';
import { untoldClients, type IncidentClock } from '../../services/incidents/incident-clocks.ts';
import { unheldContainment } from '../../services/incidents/incident-transitions.ts';

const STEP_FLAGS: Readonly<Record<ContainmentStepName, string>> = {
  rotate: '--rotate',
  'revoke-oauth': '--revoke-oauth',
  kill: '--kill',
};

/** Each client's containment steps that were tried and never held, by client, as the CLI's flags. */
function unheldByClient(incident: Pick<IncidentRecord, 'containment'>): Map<string, string[]> {
  const byClient = new Map<string, string[]>();
  for (const item of unheldContainment(incident)) {
    const space = item.indexOf(' ');
    const client = item.slice(0, space);
    const step = item.slice(space + 1) as ContainmentStepName;
    byClient.set(client, [...(byClient.get(client) ?? []), STEP_FLAGS[step] ?? `--${step}`]);
  }
  return byClient;
}

/** The commands that retry the containment that never held, one line per client; empty when every step tried held. */
export function containmentRetries(incident: Pick<IncidentRecord, 'id' | 'containment'>): string[] {
  return [...unheldByClient(incident)].map(
    ([client, flags]) =>
      `contain ${client} again (${flags.map((flag) => flag.slice(2)).join(', ')} never held): fleet incident contain ${incident.id} ${flags.join(' ')} --client ${client}`,
  );
}

/** The incident's clients that no containment step was tried for. */
export function clientsWithoutContainment(
  incident: Pick<IncidentRecord, 'clients' | 'containment'>,
): string[] {
  return incident.clients.filter((client) => !incident.containment.some((step) => step.clientId === client));
}

/**
 * What on-call does next, one command per line, from the clocks still ticking and the containment that
 * never held: the step that stops each clock, marked LATE once it is overdue. Empty when nothing is owed.
 */
export function incidentNextSteps(incident: IncidentRecord, clocks: readonly IncidentClock[]): string[] {
  const id = incident.id;
  const ticking = (name: IncidentClock['name']) =>
    clocks.find((clock) => clock.name === name && (clock.state === 'running' || clock.state === 'overdue'));
  const late = (clock: IncidentClock) => (clock.state === 'overdue' ? ' (LATE)' : '');
  const steps: string[] = incident.status === 'closed' ? [] : containmentRetries(incident);
  const response = ticking('response');
  if (response !== undefined) {
    steps.push(
      `respond${late(response)}: fleet incident contain ${id} --kill | --rotate | --revoke-oauth for a compromise, or preserve state first: fleet incident evidence ${id}`,
    );
  }
  const assessment = ticking('assessment');
  if (assessment !== undefined) {
    steps.push(
      `assess${late(assessment)}: fleet incident note ${id} --assessment --text "scope, severity, why"; a breach of client data: fleet incident confirm ${id} --scope "…"`,
    );
  }
  const notification = ticking('notification');
  if (notification !== undefined) {
    for (const client of untoldClients(incident)) {
      const which = client === null || incident.clients.length === 1 ? '' : ` --client ${client}`;
      steps.push(
        `tell ${client ?? 'the client'} of the breach${late(notification)}, then: fleet incident notify ${id}${which} --channel <how> --recipient <who>`,
      );
    }
  }
  const report = ticking('report');
  if (report !== undefined && incident.status !== 'closed') {
    steps.push(
      `close${late(report)} (the report is due): fleet incident close ${id} --root-cause "…" --lessons "…"`,
    );
  } else if (report !== undefined) {
    const targets =
      incident.clients.length <= 1
        ? [`--out ${id}.html`]
        : incident.clients.map((client) => `--client ${client} --out ${id}-${client}.html`);
    for (const target of targets)
      steps.push(`deliver the final report${late(report)}: fleet incident report ${id} ${target}`);
  }
  return steps;
}
