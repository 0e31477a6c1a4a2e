import { parseClientId } from '@agent-fleet/kernel/client-id';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentWorkloadState, ContainerRuntime } from '../ports/container-runtime.ts';
import type { ClientRecord, Registry } from '../ports/registry.ts';
import type { ScrapeTargets } from '../ports/scrape-targets.ts';
import type { AgentReportOutcome } from './agent-report.ts';
import { checkPinnedModel } from './doctor/model-retirement-check.ts';

export interface ClientDescription {
  /** The runtime this orchestrator runs agents on (one per orchestrator). */
  runtime: ContainerRuntime['kind'];
  client: Omit<ClientRecord, 'configYaml' | 'operationId' | 'operationHeartbeatAt'>;
  agent: AgentWorkloadState | null;
  scrapeTarget: string | null;
  /** The onboarding checklist's open items at the last `fleet doctor` (all while never checked); the API adds it. */
  onboarding?: { openRequired: number; openTotal: number; checkedAt: string | null };
  /** The model the config pins, and what is wrong with it when its retirement is near or past (fleet doctor's check). */
  model: { id: string; finding: string | null } | null;
  /** What the running agent says of itself (the API adds it; absent while no agent runs). */
  agentReport?: AgentReportOutcome;
}

/** What ops see for `fleet status`: the registry's view next to the runtime's. */
export async function describeClient(
  deps: { registry: Registry; runtime: ContainerRuntime; targets: ScrapeTargets },
  rawClientId: unknown,
  now: Date = new Date(),
): Promise<ClientDescription> {
  const clientId = parseClientId(rawClientId);
  const record = await deps.registry.getClient(clientId);
  if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry; \`fleet list\` shows the clients`);
  const [agent, targets] = await Promise.all([deps.runtime.inspectAgent(clientId), deps.targets.list()]);
  const { configYaml: _config, operationId: _op, operationHeartbeatAt: _beat, ...client } = record;
  return {
    runtime: deps.runtime.kind,
    client,
    agent,
    scrapeTarget: targets.find((target) => target.clientId === clientId)?.address ?? null,
    model: pinnedModel(record.configYaml, now),
  };
}

/** The config's model and the retirement check's finding (a failure, or a pass carrying a warning); null without a readable config. */
function pinnedModel(configYaml: string, now: Date): ClientDescription['model'] {
  let model: string;
  try {
    model = parseClientConfigYaml(configYaml, 'the stored config').model;
  } catch {
    return null;
  }
  const check = checkPinnedModel({ model }, now);
  const evidence = check.evidence[0] ?? null;
  return { id: model, finding: check.status === 'fail' || evidence?.startsWith('warning:') === true ? evidence : null };
}
