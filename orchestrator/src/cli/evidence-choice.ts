import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { IncidentEvidence } from '../ports/incident-store.ts';
import { evidenceNamed, evidenceNames } from '../services/incidents/evidence-files.ts';

/**
 * The bundle `fleet incident evidence-copy` takes: the one named, else the latest of the client asked
 * for, else the latest of the incident's only client. Several clients and no choice is an error, not a guess.
 */
export function chooseEvidence(incidentId: string, evidence: readonly IncidentEvidence[], choice: { client?: string | undefined; bundle?: string | undefined }): IncidentEvidence {
  const names = evidenceNames(evidence);
  if (evidence.length === 0) throw new FleetError('not_found', `${incidentId} has no sealed evidence yet (fleet incident evidence ${incidentId})`);
  if (choice.bundle !== undefined) {
    const named = evidenceNamed(evidence, choice.bundle);
    if (named === undefined) throw new FleetError('not_found', `${incidentId} has no bundle ${JSON.stringify(choice.bundle)}; its bundles: ${names.join(', ')}`);
    if (choice.client !== undefined && named.clientId !== choice.client) throw new FleetError('invalid_input', `${choice.bundle} is ${named.clientId}'s bundle, not ${choice.client}'s`);
    return named;
  }
  const candidates = choice.client === undefined ? evidence : evidence.filter((candidate) => candidate.clientId === choice.client);
  if (candidates.length === 0) throw new FleetError('not_found', `${incidentId} has no bundle of ${choice.client ?? ''}; its bundles: ${names.join(', ')}`);
  const clients = new Set(candidates.map((candidate) => candidate.clientId));
  if (clients.size > 1) throw new FleetError('invalid_input', `${incidentId} has bundles of ${[...clients].join(', ')}: choose one with --client or --bundle`);
  return candidates.at(-1) as IncidentEvidence;
}
