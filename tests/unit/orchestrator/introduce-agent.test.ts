// The secure introduction in two halves: the wrap is minted when prepared (while the agent starts) and
// handed over later; one too old by then is replaced, never handed over dying.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import type { AgentControl, IntroductionPayload } from '../../../orchestrator/src/ports/agent-control.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { AgentIntroduction, SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { introduceAgent, prepareIntroduction, type IntroduceAgentDependencies } from '../../../orchestrator/src/services/introduce-agent.ts';

const acme = parseClientId('acme');

function standIns() {
  const log: string[] = [];
  let clock = 0;
  let issued = 0;
  const secrets = {
    issueAgentIntroduction: async (clientId: ClientId): Promise<AgentIntroduction> => {
      issued += 1;
      log.push(`issue ${clientId} #${issued}`);
      return { wrappingToken: `wrap-${issued}`, ttlSeconds: 60, creationPath: 'auth/token/create/agent-acme', tokenAccessor: `acc-${issued}` };
    },
  } as Partial<SecretStore> as SecretStore;
  const control = {
    introduce: async (clientId: ClientId, address: string, payload: IntroductionPayload) => {
      log.push(`introduce ${clientId} at ${address} with ${payload.wrappingToken} for ${payload.vaultAddr} (${payload.creationPath})`);
    },
    waitReady: async (clientId: ClientId, address: string, timeoutMs: number) => {
      log.push(`waitReady ${clientId} at ${address} within ${timeoutMs}`);
    },
  } as Partial<AgentControl> as AgentControl;
  const deps: IntroduceAgentDependencies = {
    secrets,
    control,
    vaultAddressFor: async (clientId) => `https://gateway-of-${clientId}:8200`,
    readyTimeoutMs: 30_000,
    runtime: { kind: 'docker', inspectAgent: async () => null } as Partial<ContainerRuntime> as ContainerRuntime,
    now: () => clock,
  };
  return { deps, log, advance: (ms: number) => (clock += ms) };
}

void test('prepared: the wrap is minted at once and handed over later, then readiness is awaited', async () => {
  const { deps, log, advance } = standIns();
  const handOver = await prepareIntroduction(deps, acme);
  assert.deepEqual(log, ['issue acme #1'], 'minted before the agent is known to be healthy');
  advance(29_000);
  await handOver('127.0.0.1:41000');
  assert.deepEqual(log, [
    'issue acme #1',
    'introduce acme at 127.0.0.1:41000 with wrap-1 for https://gateway-of-acme:8200 (auth/token/create/agent-acme)',
    'waitReady acme at 127.0.0.1:41000 within 30000',
  ]);
});

void test('a wrap older than half its TTL at hand-over is replaced by a fresh one', async () => {
  const { deps, log, advance } = standIns();
  const handOver = await prepareIntroduction(deps, acme);
  advance(30_000);
  await handOver('127.0.0.1:41000');
  assert.deepEqual(log.slice(0, 3), [
    'issue acme #1',
    'issue acme #2',
    'introduce acme at 127.0.0.1:41000 with wrap-2 for https://gateway-of-acme:8200 (auth/token/create/agent-acme)',
  ]);
});

void test('introduceAgent mints and hands over in one go', async () => {
  const { deps, log } = standIns();
  await introduceAgent(deps, acme, '127.0.0.1:41000');
  assert.deepEqual(log, [
    'issue acme #1',
    'introduce acme at 127.0.0.1:41000 with wrap-1 for https://gateway-of-acme:8200 (auth/token/create/agent-acme)',
    'waitReady acme at 127.0.0.1:41000 within 30000',
  ]);
});

void test('a hand-over refused because the agent exited after /healthz reports the exit, its code and logs', async () => {
  const { deps } = standIns();
  const refused = new Error('connect ECONNREFUSED 127.0.0.1:41000');
  deps.control = { ...deps.control, introduce: async () => Promise.reject(refused) } as AgentControl;
  deps.runtime = {
    kind: 'docker',
    inspectAgent: async (clientId: ClientId) => ({ clientId, exists: true, running: false, status: 'exited', exitCode: 1, startedAt: null, endpoints: null }),
  } as Partial<ContainerRuntime> as ContainerRuntime;
  await assert.rejects(introduceAgent(deps, acme, '127.0.0.1:41000'), (error: Error) => {
    assert.equal(error.message, 'agent of acme exited with code 1 (see `docker logs fleet-acme`)');
    assert.equal(error.cause, refused);
    return true;
  });
});
