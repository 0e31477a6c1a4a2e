import { Listr } from 'listr2';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { ProvisionResult } from '../services/provision-client.ts';
import type { FleetApiClient } from './fleet-api-client.ts';
import type { AgentRuntimeKind } from './orchestrator-client.ts';
import { progressOptions } from './progress-options.ts';
import { terminalSafe } from './terminal-text.ts';

interface Deferred {
  promise: Promise<number>;
  resolve: (ms: number) => void;
  reject: (error: Error) => void;
}

function deferred(): Deferred {
  let resolve!: (ms: number) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<number>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Provisions through the service and shows each step with its timing as it happens, on `progressTo` (the
 * CLI's stdout), or nowhere when it is null (`--json`: stdout is the result alone).
 */
export async function provisionWithProgress(
  api: FleetApiClient,
  clientId: ClientId,
  body: { config?: string; runtime?: AgentRuntimeKind },
  progressTo: NodeJS.WritableStream | null,
): Promise<ProvisionResult> {
  const steps = new Map<string, Deferred>();
  let planned: (steps: string[]) => void;
  const plan = new Promise<string[]>((resolve) => (planned = resolve));
  let sawStep = false;
  let stepsBegan: () => void;
  const firstEvent = new Promise<void>((resolve) => (stepsBegan = resolve));
  let outcome: ProvisionResult | undefined;
  let failure: FleetError | undefined;

  const streaming = api
    .provision(clientId, body, (line) => {
      if ('plan' in line) {
        for (const step of line.plan) steps.set(step, deferred());
        planned(line.plan);
      } else if ('event' in line) {
        sawStep = true;
        stepsBegan();
        const step = steps.get(line.event.step);
        if (line.event.type === 'step-succeeded') step?.resolve(line.event.durationMs);
        // The progress display prints the step's error as it is: inert like all output (terminal-text.ts).
        if (line.event.type === 'step-failed') step?.reject(new Error(terminalSafe(line.event.error)));
      } else if ('result' in line) {
        outcome = line.result;
      } else if ('error' in line) {
        failure = line.error;
      }
    })
    .finally(() => {
      planned([]);
      const ended = new Error(terminalSafe(failure?.message ?? 'provisioning ended'));
      for (const step of steps.values()) step.reject(ended);
    });

  const names = await plan;
  // Refusals (bad id, busy, killed) and "already active" come before any step: no progress display then.
  await Promise.race([firstEvent, streaming.catch(() => undefined)]);
  if (!sawStep) {
    await streaming.catch(() => undefined);
    if (failure) throw failure;
    if (outcome) return outcome;
    throw new FleetError('internal', 'the orchestrator ended the provisioning stream without a result');
  }
  // Step names come from the service: shown inert like all output (terminal-text.ts).
  const tasks = new Listr(
    names.map((name) => ({
      title: terminalSafe(name),
      task: async (_context: unknown, task: { title: string }) => {
        const ms = await Promise.race([
          steps.get(name)!.promise,
          streaming.then(() => steps.get(name)!.promise),
        ]);
        task.title = `${terminalSafe(name).padEnd(10)} ${ms < 1 ? '<1' : Math.round(ms)} ms`;
      },
    })),
    progressOptions(progressTo),
  );
  const rendering = tasks.run().catch(() => undefined);
  await streaming.catch(() => undefined);
  await rendering;
  if (failure) throw failure;
  if (!outcome)
    throw new FleetError('internal', 'the orchestrator ended the provisioning stream without a result');
  return outcome;
}
