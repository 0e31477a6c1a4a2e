import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentVolumes } from '../../ports/container-runtime.ts';

const refuse = (what: string) => (): Promise<never> =>
  Promise.reject(
    new FleetError('unavailable', `${what} is not supported on kubernetes yet: snapshot the client's PersistentVolumeClaim with your storage's snapshot tooling`),
  );

/** Backups, restores and exports of stopped agents work on Docker only for now: each says so clearly. */
export const unsupportedAgentVolumes: AgentVolumes = {
  freezeAgent: refuse('pausing an agent for a backup'),
  thawAgent: () => Promise.resolve(),
  snapshot: refuse('a volume snapshot (fleet backup)'),
  stage: refuse('a volume restore (fleet restore)'),
  swap: refuse('a volume restore (fleet restore)'),
  recover: () => Promise.resolve('clean'),
  writeFiles: refuse('writing into the volume of a stopped agent (fleet export)'),
  startReader: refuse('reading the volume of a stopped agent (fleet export)'),
  removeHelpers: () => Promise.resolve(),
};
