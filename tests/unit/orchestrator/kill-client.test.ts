// The kill switch's order against a real registry and recording stand-ins for Vault, the engine and the
// agent: the registry says killed before anything else; the lockdown runs while the agent is told; the
// SIGKILL waits for the agent's answer but never longer than the notice's bound; on Docker the agent that
// answered has written its own flag and the orchestrator writes one only for an agent that did not, once
// its process is gone; on Kubernetes the orchestrator's flag is placed before the stop; and whatever
// fails, every step still runs and kill() returns only after the lockdown and the stop.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { AgentWorkloadState, ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { KillClientService } from '../../../orchestrator/src/services/kill-client.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';
import type { OpenedRegistry } from '../../helpers/registries.ts';

const CLIENT = 'acme' as ClientId;
/** The notice's bound in kill-client.ts, with room for a busy test machine. */
const NOTICE_BOUND_MS = 150;
const SLACK_MS = 150;

interface Script {
  kind: 'docker' | 'kubernetes';
  notice: 'answers' | 'refused' | 'hangs';
  running?: boolean;
  lockFails?: boolean;
  stopFails?: boolean;
  lockdownMs?: number;
}

interface Recording {
  /** `start X` / `end X` in the order they happened. */
  log: string[];
  /** ms since the kill started, per `start X` / `end X`. */
  at: Map<string, number>;
  placed: Array<{ name: string; content: string; user: string }>;
  statusSeenFirst: string | null;
  noticeTimeoutMs: number | null;
}

function standIns(script: Script, opened: OpenedRegistry, started: () => number) {
  const recording: Recording = { log: [], at: new Map(), placed: [], statusSeenFirst: null, noticeTimeoutMs: null };
  let stopped = false;
  const mark = (what: string) => {
    recording.log.push(what);
    recording.at.set(what, started());
  };
  const step = async (name: string, delayMs: number, fails = false) => {
    if (recording.statusSeenFirst === null) recording.statusSeenFirst = (await opened.registry.getClient(CLIENT))?.status ?? 'none';
    mark(`start ${name}`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    mark(`end ${name}`);
    if (fails) throw new FleetError('unavailable', `${name} failed (injected)`);
  };
  const secrets = {
    readControlToken: async () => {
      await step('readControlToken', 5);
      return 'control-token';
    },
    lockClient: () => step('lockClient', script.lockdownMs ?? 10, script.lockFails),
    revokeAgentTokens: async () => {
      await step('revokeAgentTokens', script.lockdownMs ?? 10);
      return { revoked: 2 };
    },
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: script.kind,
    inspectAgent: async (clientId: ClientId): Promise<AgentWorkloadState> => {
      await step('inspectAgent', 1);
      const running = (script.running ?? true) && !stopped;
      return {
        clientId,
        exists: true,
        running,
        status: running ? 'running' : 'exited',
        exitCode: running ? null : 137,
        startedAt: null,
        endpoints: running ? { control: '127.0.0.1:1', metrics: '127.0.0.1:2' } : null,
      };
    },
    placeFiles: async (_clientId: ClientId, files: Readonly<Record<string, string>>, user: string) => {
      for (const [name, content] of Object.entries(files)) {
        await step(`placeFile ${name}`, 5);
        recording.placed.push({ name, content, user });
      }
    },
    stopAgent: async (_clientId: ClientId, graceSeconds: number) => {
      await step(`stopAgent ${graceSeconds}`, 20, script.stopFails);
      stopped = true;
    },
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const control = {
    request: async (_clientId: ClientId, _address: string, token: string, method: string, requestPath: string, _body: unknown, timeoutMs?: number) => {
      assert.equal(token, 'control-token');
      recording.noticeTimeoutMs = timeoutMs ?? null;
      mark(`start ${method} ${requestPath}`);
      if (script.notice === 'refused') throw new FleetError('unavailable', 'agent unreachable (injected)');
      // The adapter gives up after timeoutMs, as the HTTP adapter's abort signal does.
      await new Promise((resolve) => setTimeout(resolve, script.notice === 'answers' ? 10 : (timeoutMs ?? 10_000)));
      mark(`end ${method} ${requestPath}`);
      if (script.notice === 'hangs') throw new FleetError('unavailable', 'timed out (injected)');
      return undefined;
    },
  } as Partial<AgentControl> as AgentControl;
  const targets = { unregister: async () => void mark('unregister') } as Partial<ScrapeTargets> as ScrapeTargets;
  return { secrets, runtime, control, targets, recording };
}

const assertBefore = (log: string[], first: string, second: string) => {
  const a = log.indexOf(first);
  const b = log.indexOf(second);
  assert.ok(a >= 0 && b >= 0 && a < b, `${first} before ${second} in ${JSON.stringify(log)}`);
};

for (const backend of inProcessBackends) {
  describe(`the kill switch's order of steps (${backend.name} registry)`, () => {
    const bed = clientOnRegistry(backend, { id: CLIENT, status: 'active', reason: null }, 'kill-client');

    async function killWith(script: Script) {
      let t0 = 0;
      const parts = standIns(script, bed.opened, () => performance.now() - t0);
      const config = loadConfig({ AGENT_FLEET_HOME: bed.homeDir });
      const service = new KillClientService({ config, registry: bed.opened.registry, ...parts, clock: systemClock, logger: createSilentLogger() });
      t0 = performance.now();
      const outcome = await service.kill({ clientId: CLIENT, reason: 'test: compromised', actor: 'ops' }).then(
        (result) => ({ result, error: null }),
        (error: unknown) => ({ result: null, error }),
      );
      return { ...outcome, ...parts.recording, returnedAt: performance.now() - t0, user: config.agent.user };
    }

    test('Docker, the agent answers: killed first, lockdown alongside the notice, SIGKILL after the answer, no flag of ours', async () => {
      const run = await killWith({ kind: 'docker', notice: 'answers' });
      assert.equal(run.error, null);
      assert.equal(run.statusSeenFirst, 'killed', 'the registry says killed before anything else');
      assert.deepEqual(run.result && { ...run.result, durationMs: 0 }, {
        clientId: CLIENT,
        alreadyKilled: false,
        revokedTokens: 2,
        agentNotified: true,
        containerStopped: true,
        durationMs: 0,
      });
      assertBefore(run.log, 'end readControlToken', 'start POST /v1/kill');
      assertBefore(run.log, 'end POST /v1/kill', 'start stopAgent 0');
      // The lockdown does not wait for the notice, nor the notice for the lockdown.
      assertBefore(run.log, 'start lockClient', 'end POST /v1/kill');
      assertBefore(run.log, 'start revokeAgentTokens', 'end lockClient');
      assert.deepEqual(run.placed, [], 'the agent that answered wrote its own flag into its volume');
      for (const last of ['end lockClient', 'end revokeAgentTokens', 'end stopAgent 0', 'unregister']) {
        assert.ok((run.at.get(last) ?? Infinity) <= run.returnedAt, `${last} before kill() returned`);
      }
      const entry = (await bed.opened.registry.listOpsLog({ clientId: CLIENT })).at(-1);
      assert.equal(entry?.action, 'kill');
      assert.equal(entry?.outcome, 'success');
      assert.deepEqual(entry?.details, { previousStatus: 'active', revokedTokens: 2, agentNotified: true, containerStopped: true });
    });

    test('Docker, the agent does not answer: the SIGKILL goes at the bound, then our flag lands in the volume', async () => {
      const run = await killWith({ kind: 'docker', notice: 'hangs' });
      assert.equal(run.error, null);
      assert.equal(run.result?.agentNotified, false);
      assert.ok(run.noticeTimeoutMs !== null && run.noticeTimeoutMs <= NOTICE_BOUND_MS, `notice bounded (${run.noticeTimeoutMs} ms)`);
      const sigkill = run.at.get('start stopAgent 0') ?? Infinity;
      assert.ok(sigkill <= NOTICE_BOUND_MS + SLACK_MS, `SIGKILL sent at ${Math.round(sigkill)} ms`);
      assertBefore(run.log, 'end stopAgent 0', 'start placeFile KILLED');
      assert.equal(run.placed.length, 1);
      assert.equal(run.placed[0]?.name, 'KILLED');
      assert.equal(run.placed[0]?.user, run.user);
      assert.deepEqual({ ...JSON.parse(run.placed[0]?.content ?? '{}'), at: 'x' }, { killed: true, at: 'x', by: 'ops', reason: 'test: compromised' });
    });

    test('Docker, the agent refuses the notice: stopped at once, and flagged', async () => {
      const run = await killWith({ kind: 'docker', notice: 'refused' });
      assert.equal(run.error, null);
      assert.equal(run.result?.agentNotified, false);
      assertBefore(run.log, 'start POST /v1/kill', 'start stopAgent 0');
      assertBefore(run.log, 'end stopAgent 0', 'start placeFile KILLED');
      assert.deepEqual(run.placed.map((file) => file.name), ['KILLED']);
    });

    test('Docker, an agent that does not run is not told; its stopped container still gets the flag', async () => {
      const run = await killWith({ kind: 'docker', notice: 'answers', running: false });
      assert.equal(run.error, null);
      assert.equal(run.result?.agentNotified, false);
      assert.ok(!run.log.includes('start POST /v1/kill'));
      assert.deepEqual(run.placed.map((file) => file.name), ['KILLED']);
    });

    test('Kubernetes: the orchestrator\'s own flag is placed before the stop, even when the agent answered', async () => {
      const run = await killWith({ kind: 'kubernetes', notice: 'answers' });
      assert.equal(run.error, null);
      assert.equal(run.result?.agentNotified, true);
      assertBefore(run.log, 'end placeFile KILLED', 'start stopAgent 0');
      assertBefore(run.log, 'end POST /v1/kill', 'start stopAgent 0');
      assert.deepEqual(run.placed.map((file) => file.name), ['KILLED']);
    });

    test('a Vault failure still stops and flags the agent, and kill() fails with it', async () => {
      const run = await killWith({ kind: 'docker', notice: 'refused', lockFails: true });
      assert.ok(run.error instanceof FleetError && run.error.message.includes('lockClient failed'), String(run.error));
      assert.ok(run.log.includes('end stopAgent 0'));
      assert.ok(run.log.includes('end revokeAgentTokens'), 'the tokens are revoked even when the policy write failed');
      assert.deepEqual(run.placed.map((file) => file.name), ['KILLED']);
      assert.equal((await bed.opened.registry.getClient(CLIENT))?.status, 'killed');
    });

    test('a failed stop still leaves the flag (a running agent sees it at its next check), and kill() fails', async () => {
      const run = await killWith({ kind: 'docker', notice: 'hangs', stopFails: true });
      assert.ok(run.error instanceof FleetError && run.error.message.includes('stopAgent 0 failed'), String(run.error));
      assert.deepEqual(run.placed.map((file) => file.name), ['KILLED']);
      assert.ok(run.log.includes('end lockClient') && run.log.includes('end revokeAgentTokens'));
    });

    test('a slow Vault holds kill() back: it never returns before the tokens are revoked', async () => {
      const run = await killWith({ kind: 'docker', notice: 'answers', lockdownMs: 300 });
      assert.equal(run.error, null);
      assert.ok((run.at.get('end revokeAgentTokens') ?? Infinity) <= run.returnedAt);
      assert.ok((run.at.get('end lockClient') ?? Infinity) <= run.returnedAt);
      // The stop did not wait for Vault.
      assertBefore(run.log, 'end stopAgent 0', 'end lockClient');
    });
  });
}
