import type Docker from 'dockerode';
import { LABEL_CLIENT, LABEL_FLEET, LABEL_MANAGED, type ClientId } from '@agent-fleet/kernel/client-id';

/** The only driver agent volumes are made with, and with no driver options. */
export const AGENT_VOLUME_DRIVER = 'local';

/**
 * Why an existing volume is not the one this fleet makes for the client, or null when it is: labelled as
 * ours, on the `local` driver, with no driver options. Labels alone prove nothing (anyone with the socket
 * can set them): a `local` volume made with `o=bind,device=/` or `type=nfs` is a host directory or a
 * remote share, and adopting it would hand the agent (and backups, restores, erasure) someone else's files.
 */
export function foreignVolumeReason(volume: Docker.VolumeInspectInfo, clientId: ClientId, fleetId: string): string | null {
  const labels = volume.Labels ?? {};
  if (labels[LABEL_MANAGED] !== 'true' || labels[LABEL_FLEET] !== fleetId || labels[LABEL_CLIENT] !== clientId) {
    return `it is not managed by agent-fleet for ${clientId}`;
  }
  if (volume.Driver !== AGENT_VOLUME_DRIVER) return `it uses the volume driver ${JSON.stringify(String(volume.Driver).slice(0, 80))}, not ${AGENT_VOLUME_DRIVER}`;
  const options = Object.keys(volume.Options ?? {});
  if (options.length > 0) {
    return `it was made with driver options (${options.map((option) => JSON.stringify(option.slice(0, 40))).slice(0, 8).join(', ')}), which agent-fleet never sets`;
  }
  return null;
}
