import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { ItemOutcome } from '../../domain/onboarding-checklist.ts';
import type { AgentVolumes } from '../../ports/container-runtime.ts';
import { outcomeOfCheckError } from './check-failure.ts';
import { scanTarForMarkers, type Marker } from './volume-marker-scan.ts';

export interface EncryptionInput {
  clientId: ClientId;
  config: ClientConfig;
  volumes: Pick<AgentVolumes, 'snapshot'>;
  /** The agent image, for the helper that mounts the volume when the agent's container is gone. */
  image: string;
  /** Subjects of recent emails (read under a support grant), and markers the caller seeded. */
  subjects: readonly string[];
  extraMarkers: readonly string[];
  /** Why subjects are (not) among the markers, for the evidence. */
  subjectsNote: string;
}

/**
 * Encryption at rest, checked from outside the agent: the whole volume (as its snapshot streams it) holds
 * none of the client's plaintext markers: its admins' and mailbox's addresses, subjects of recent mail, and
 * any canary the caller names. Everything the agent stores is sealed; a hit is a file written in the clear.
 */
export async function checkEncryptionAtRest(input: EncryptionInput): Promise<ItemOutcome> {
  const markers: Marker[] = [
    ...input.config.admins.map((text) => ({ text, kind: 'an admin address' })),
    ...(input.config.mailbox ? [{ text: input.config.mailbox, kind: 'the mailbox address' }] : []),
    ...input.subjects.map((text) => ({ text, kind: 'a recent subject' })),
    ...input.extraMarkers.map((text) => ({ text, kind: 'a given marker' })),
  ];
  if (markers.length === 0)
    return { status: 'pending', evidence: ['nothing to look for: no admin, mailbox or marker known'] };
  let scan;
  try {
    const tar = await input.volumes.snapshot(input.clientId, input.image);
    // Nothing is plaintext by design: the config too lies in the volume sealed (config.sealed).
    scan = await scanTarForMarkers(tar, markers, () => null);
  } catch (error) {
    return outcomeOfCheckError(error, 'the volume', input.clientId);
  }
  const kinds = [...new Set(markers.map((marker) => marker.kind))].join(', ');
  const scanned = `${scan.files} file(s), ${(scan.bytes / 1048576).toFixed(1)} MiB scanned for ${markers.length} marker(s) (${kinds}); ${input.subjectsNote}`;
  const skipped = scan.skipped.length > 0 ? [`left out: ${scan.skipped.join('; ')}`] : [];
  if (scan.hits.length > 0) {
    return {
      status: 'fail',
      evidence: [...scan.hits.map((hit) => `plaintext ${hit.kind} in ${hit.file}`), scanned, ...skipped],
    };
  }
  return { status: 'pass', evidence: [`no plaintext marker found: ${scanned}`, ...skipped] };
}
