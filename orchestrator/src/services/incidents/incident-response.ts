import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../../ports/clock.ts';
import type { IncidentStore } from '../../ports/incident-store.ts';
import type { KeyWrapper } from '../../ports/key-wrapper.ts';
import type { OAuthGrantRevoker } from '../../ports/oauth-grant-revoker.ts';
import type { Registry } from '../../ports/registry.ts';
import type { ExportSigner } from '../export/export-signing-key.ts';
import type { SupportGrant } from '../support-access.ts';
import type { EvidenceSources } from './evidence-parts.ts';
import { runningClockSamples, type ClockSettings, type IncidentClockSample } from './incident-clocks.ts';
import { IncidentContainmentService, type ContainmentDependencies } from './incident-containment.ts';
import { IncidentEvidenceService } from './incident-evidence.ts';
import { IncidentReportService } from './incident-report.ts';
import { IncidentService } from './incident-service.ts';

export interface IncidentResponseDependencies {
  store: IncidentStore;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  clocks: ClockSettings;
  support: {
    list(clientId: unknown): Promise<SupportGrant[]>;
    authorize(clientId: unknown, member: string, purpose: string, scope?: { incident?: string }): Promise<SupportGrant>;
    revoke(input: { clientId: unknown; grantId: string; actor: string }): Promise<SupportGrant>;
  };
  kill: ContainmentDependencies['kill'];
  rotate: ContainmentDependencies['rotate'];
  oauth: OAuthGrantRevoker;
  sources: Omit<EvidenceSources, 'registry' | 'authorize'>;
  signer(): Promise<ExportSigner>;
  /** Encrypts evidence bundles under each client's key. */
  keys: KeyWrapper;
  /** Where evidence bundles are kept (owner-only). */
  evidenceDir: string;
}

/** The incident process, wired: the record and its clocks, containment, evidence and the report. */
export interface IncidentResponse {
  incidents: IncidentService;
  containment: IncidentContainmentService;
  evidence: IncidentEvidenceService;
  reports: IncidentReportService;
  /** The clocks still ticking of every incident not closed (or closed without its final report). */
  clockSamples(): Promise<IncidentClockSample[]>;
}

export function createIncidentResponse(deps: IncidentResponseDependencies): IncidentResponse {
  const logger = deps.logger.child({ op: 'incident' });
  const incidents = new IncidentService({
    store: deps.store,
    registry: deps.registry,
    clock: deps.clock,
    logger,
    clocks: deps.clocks,
    grantsOf: (clientId) => deps.support.list(clientId),
    revokeGrant: (input) => deps.support.revoke(input),
  });
  return {
    incidents,
    containment: new IncidentContainmentService({
      incidents,
      registry: deps.registry,
      clock: deps.clock,
      logger,
      kill: deps.kill,
      rotate: deps.rotate,
      oauth: deps.oauth,
    }),
    evidence: new IncidentEvidenceService({
      incidents,
      sources: { ...deps.sources, registry: deps.registry, authorize: (clientId, member, purpose, scope) => deps.support.authorize(clientId, member, purpose, scope) },
      signer: deps.signer,
      keys: deps.keys,
      evidenceDir: deps.evidenceDir,
      clock: deps.clock,
      logger,
    }),
    reports: new IncidentReportService({ incidents, registry: deps.registry, signer: deps.signer, keys: deps.keys, clock: deps.clock, clocks: deps.clocks }),
    async clockSamples() {
      return runningClockSamples(await deps.store.list({ clocksMayRun: true }), deps.clock.now(), deps.clocks);
    },
  };
}
