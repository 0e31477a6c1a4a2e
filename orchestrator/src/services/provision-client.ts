import { randomUUID } from 'node:crypto';
import { parseClientConfigYaml, renderClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { recordFreeTextOptIns } from './free-text-opt-ins.ts';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { runSaga, sagaStepsOf, type SagaEntry, type SagaEvent } from '../domain/saga.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { OrchestratorMetrics } from '../observability/metrics.ts';
import type { ClientOperationGuard } from './client-operation-guard.ts';
import { ClientSubnets } from './client-subnets.ts';
import { STALE_OPERATION_MS, withOperationHeartbeat } from './operation-heartbeat.ts';
import { provisionGuardRails, provisionGuardRailsView, provisionedRailIds, recordProvisionConfirmations, type ProvisionGuardRailsView } from './provision-guard-rails.ts';
import { PROVISION_ACTION, provisionedStandingDetails } from './settings/provisioned-standing.ts';
import { provisionSteps, type ProvisionContext, type ProvisionStepDependencies } from './provision-steps.ts';

export type { ProvisionSecrets } from './provision-steps.ts';

export interface ProvisionRequest {
  /** Untrusted: validated before any side effect. */
  clientId: unknown;
  /** Untrusted client config YAML; defaults to the safe defaults for the client. */
  configYaml?: string | undefined;
  actor: string;
  /** Extra non-secret environment for the agent (tests use it to inject faults). */
  agentEnvironment?: Record<string, string>;
  /** Untrusted: the runtime the caller expects (`fleet provision --runtime`); refused if it is not this one. */
  runtime?: unknown;
  /**
   * Untrusted: the guard rails (by id) the config crosses from the safe defaults that the actor accepts
   * (`fleet provision --confirm`); recorded once the client is provisioned. One the config does not cross
   * is refused before any side effect.
   */
  confirm?: unknown;
}

export type ProvisionResult =
  | { outcome: 'already-active'; clientId: ClientId }
  | {
      outcome: 'provisioned';
      clientId: ClientId;
      runtime: ContainerRuntime['kind'];
      controlAddress: string;
      metricsAddress: string;
      subnet: string;
      steps: Array<{ step: string; durationMs: number }>;
      /** Host problems ops should fix (e.g. an old Docker Engine); the agent runs regardless. */
      warnings: string[];
      /**
       * The guard rails the config crosses from the safe defaults: confirmed (and recorded), and left
       * unconfirmed. Absent from an orchestrator older than the CLI reading it.
       */
      guardRails?: ProvisionGuardRailsView;
    };

export type ProvisionEvent = SagaEvent;

export interface ProvisionDependencies extends ProvisionStepDependencies {
  logger: Logger;
  metrics?: OrchestratorMetrics;
  /** Shared with the reads of closed clients' volumes, which need a network too. Default: this service's own. */
  subnets?: ClientSubnets;
  /** The claim is refused while an operation runs on the client's volume (an export of a closed client reopens its network). */
  guard?: Pick<ClientOperationGuard, 'exclusive' | 'runningOn' | 'ended'>;
  /** How often a running provisioning refreshes its heartbeat, in ms. Default: a fifth of STALE_OPERATION_MS. */
  heartbeatIntervalMs?: number;
}

const RUNTIME_KINDS: ReadonlyArray<ContainerRuntime['kind']> = ['docker', 'kubernetes'];

/**
 * One runtime per orchestrator is the design: a provision asking for another one is refused before any
 * side effect, with the way to get it.
 */
export function checkRequestedRuntime(requested: unknown, running: ContainerRuntime['kind']): void {
  if (requested === undefined) return;
  if (typeof requested !== 'string' || !RUNTIME_KINDS.includes(requested as ContainerRuntime['kind'])) {
    throw new FleetError('invalid_input', `runtime must be ${RUNTIME_KINDS.join(' or ')} (got ${JSON.stringify(requested)})`);
  }
  if (requested !== running) {
    throw new FleetError('conflict', `this orchestrator runs agents on ${running}; restart it with FLEET_RUNTIME=${requested}`);
  }
}

/**
 * Provisions a client's agent as a saga (see provisionSteps): registry row → secrets, volume and network →
 * container → start → health → introduction and scrape target → active. Every step is idempotent; any
 * failure rolls back what was done, in reverse.
 */
export class ProvisionClientService {
  private readonly deps: ProvisionDependencies;
  private readonly subnets: ClientSubnets;

  constructor(deps: ProvisionDependencies) {
    this.deps = deps;
    this.subnets = deps.subnets ?? new ClientSubnets(deps);
  }

  async provision(request: ProvisionRequest, onEvent: (event: ProvisionEvent) => void = () => undefined): Promise<ProvisionResult> {
    const { clientId, configYaml, config } = this.validate(request);
    checkRequestedRuntime(request.runtime, this.deps.runtime.kind);
    const now = this.deps.clock.now();
    const onboardingStartedAt = config.onboarding.startedAt ?? now.toISOString();
    const guardRails = provisionGuardRails(config, onboardingStartedAt, request.confirm, now);
    const claimStartedAt = performance.now();
    const context: ProvisionContext = {
      clientId,
      operationId: randomUUID(),
      configYaml,
      provider: config.provider,
      admins: config.admins,
      onboardingStartedAt,
      agentEnvironment: request.agentEnvironment ?? {},
      createdRow: false,
      previousStatus: null,
      createdVolume: false,
      createdNetwork: false,
      progressWrites: Promise.resolve(),
    };
    const logger = this.deps.logger.child({ client: clientId, op: context.operationId });

    const claimRow = () =>
      this.deps.registry.claimForProvisioning(
        {
          id: clientId,
          provider: context.provider,
          admins: context.admins,
          configYaml,
          onboardingStartedAt: context.onboardingStartedAt,
        },
        context.operationId,
        now,
        STALE_OPERATION_MS,
      );
    const claim = await this.claimGuarded(clientId, claimRow);
    if (claim.outcome === 'already-active') return { outcome: 'already-active', clientId };
    if (claim.outcome === 'busy') {
      throw new FleetError('busy', `${clientId} is already being provisioned by another operation; check \`fleet status ${clientId}\``);
    }
    if (claim.outcome === 'killed') {
      throw new FleetError('conflict', `${clientId} is killed; \`fleet revive ${clientId}\` brings it back`);
    }
    context.createdRow = claim.created;
    context.previousStatus = claim.previousStatus;

    const timings: Array<{ step: string; durationMs: number }> = [];
    let currentStep = 'claimed';
    const record = (event: SagaEvent) => {
      if (event.type === 'step-started') currentStep = event.step;
      if (event.type === 'step-succeeded' || event.type === 'step-failed') {
        const outcome = event.type === 'step-succeeded' ? 'success' : 'failure';
        this.deps.metrics?.provisionStepDuration.observe({ step: event.step, outcome }, event.durationMs / 1000);
      }
      if (event.type === 'step-succeeded') timings.push({ step: event.step, durationMs: event.durationMs });
      onEvent(event);
    };
    record({ type: 'step-succeeded', step: 'registry', durationMs: performance.now() - claimStartedAt });

    // A step may outlast STALE_OPERATION_MS (a long health timeout, a slow engine): the heartbeat keeps this
    // live operation from being taken over, and its rollback from undoing the taker's work.
    try {
      await withOperationHeartbeat({ ...this.deps, logger }, { clientId, operationId: context.operationId, step: () => currentStep }, () =>
        runSaga(this.steps(), context, record).finally(() => this.settleProgress(context, logger)),
      );
    } catch (error) {
      // The saga's error is the one the caller gets; a claim that could not be released is logged with it.
      const releaseError = await this.releaseClaim(context).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      logger.error('provisioning failed and was rolled back', { error, ...(releaseError === undefined ? {} : { releaseError }) });
      await this.deps.registry
        .appendOpsLog({
          actor: request.actor,
          action: 'provision',
          clientId,
          reason: null,
          outcome: 'failed',
          details: {
            operationId: context.operationId,
            runtime: this.deps.runtime.kind,
            error: (error as Error).message,
            ...(releaseError === undefined ? {} : { claimNotReleased: (releaseError as Error).message }),
          },
        })
        .catch(() => undefined);
      throw error;
    }

    const standing = provisionedStandingDetails(config, provisionedRailIds(guardRails));
    await this.deps.registry.appendOpsLog({
      actor: request.actor,
      action: PROVISION_ACTION,
      clientId,
      reason: null,
      outcome: 'success',
      details: {
        operationId: context.operationId,
        runtime: this.deps.runtime.kind,
        subnet: context.subnet,
        image: this.deps.config.agent.image,
        // The settings checkpoint reads these: the agent's version of this document is this crossing, recorded below.
        ...standing,
      },
    });
    await recordFreeTextOptIns(this.deps.registry, { actor: request.actor, clientId, config });
    await recordProvisionConfirmations(this.deps.registry, { actor: request.actor, clientId, operationId: context.operationId, configHash: standing.configHash, rails: guardRails });
    logger.info('client provisioned', { subnet: context.subnet });
    const endpoints = context.endpoints!;
    const warnings = await this.deps.runtime.preflightWarnings().catch((error: unknown) => [`could not check the host: ${(error as Error).message}`]);
    for (const warning of warnings) logger.warn(warning);
    return {
      outcome: 'provisioned',
      clientId,
      runtime: this.deps.runtime.kind,
      controlAddress: endpoints.control,
      metricsAddress: endpoints.metrics,
      subnet: context.subnet!,
      steps: timings,
      warnings,
      guardRails: provisionGuardRailsView(guardRails),
    };
  }

  /**
   * The registry claim, refused (busy) while an operation runs on the client's volume; once claimed, such an
   * operation sees the claim. Concurrent provisions of one client wait for each other's claim (milliseconds),
   * so the registry still tells the later one what it always did (busy, or already active).
   */
  private async claimGuarded<T>(clientId: ClientId, claimRow: () => Promise<T>): Promise<T> {
    const { guard } = this.deps;
    if (guard === undefined) return claimRow();
    while (guard.runningOn(clientId) === 'provisioning') await guard.ended(clientId);
    return guard.exclusive(clientId, 'provisioning', claimRow);
  }

  /** Waits for the saga's progress writes, so none is left in flight; one that failed is only logged. */
  private async settleProgress(context: ProvisionContext, logger: Logger): Promise<void> {
    await context.progressWrites;
    if (context.progressError !== undefined) logger.warn('could not record provisioning progress', { error: context.progressError });
  }

  /**
   * Undoes the claim last, after the saga rolled back the runtime: a new client leaves no row behind. Only a
   * claim still held is released: a kill during provisioning (killed) or an operation that took the client
   * over keeps the row as it now is, also one that claims it between the two writes (the row is then failed,
   * and claimable): the row is deleted only while it is still this operation's.
   */
  private async releaseClaim(context: ProvisionContext): Promise<void> {
    const { registry, clock } = this.deps;
    const released = await registry.transition(context.clientId, ['provisioning'], 'failed', 'provisioning failed and was rolled back', clock.now(), {
      operationId: context.operationId,
    });
    if (released && context.createdRow) await registry.deleteClient(context.clientId, { operationId: context.operationId });
  }

  /** Step names in order, so progress displays can list them before they run. */
  plannedSteps(): string[] {
    return ['registry', ...this.steps().flatMap((entry) => sagaStepsOf(entry).map((step) => step.name))];
  }

  private steps(): SagaEntry<ProvisionContext>[] {
    return provisionSteps(this.deps, this.subnets);
  }

  private validate(request: ProvisionRequest) {
    const clientId = parseClientId(request.clientId);
    const configYaml = request.configYaml ?? renderClientConfigYaml({ client: clientId });
    if (typeof configYaml !== 'string') throw new FleetError('invalid_input', 'config must be YAML text');
    const config = parseClientConfigYaml(configYaml, `config of ${clientId}`);
    if (config.client !== clientId) {
      throw new FleetError('invalid_input', `config names client "${config.client}" but "${clientId}" is being provisioned`);
    }
    return { clientId, configYaml, config };
  }
}
