// The doctor's sandbox round passes only when the agent is working the emulator's mailbox: a state the
// agent reports while it is not (another account refused, an account not confirmed yet, anything new) is
// a failed round with a plain reason, and what the agent reports is read as untrusted data.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { IsolationFacts } from '../../../orchestrator/src/domain/isolation-policy.ts';
import type { NewOpsLogEntry, OpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import {
  verifySandboxRound,
  type SandboxDependencies,
} from '../../../orchestrator/src/services/doctor/sandbox-round.ts';

const EMULATOR = 'http://10.0.0.9:8025';
const CLIENT = parseClientId('acme');

function bed(status: Record<string, unknown>) {
  const recorded: NewOpsLogEntry[] = [];
  const deps: SandboxDependencies = {
    registry: {
      appendOpsLog: async (entry: NewOpsLogEntry) => {
        recorded.push(entry);
        return {
          ...entry,
          seq: 1,
          at: '2026-06-01T08:00:00.000Z',
          prevHash: '',
          hash: '',
          seals: [],
          erasedAt: null,
        } as unknown as OpsLogEntry;
      },
    } as unknown as Registry,
    agents: {
      reach: async () => ({ address: 'http://agent', token: 'control' }),
    } as unknown as SandboxDependencies['agents'],
    control: { request: async <T>() => status as T },
    isolation: {
      inspectIsolation: async () => ({ mailEndpoint: `${EMULATOR}/gmail/v1` }) as unknown as IsolationFacts,
    },
  };
  return { deps, recorded };
}

const roundWith = (connection: unknown, overrides: Record<string, unknown> = {}) =>
  bed({ dryRun: true, connection, messages: { done: 1 }, outbox: { sent: 0 }, ...overrides });

describe('the sandbox round counts only a working mailbox as connected', () => {
  test('a connected Gmail or Outlook mailbox passes and is recorded', async () => {
    for (const provider of ['gmail', 'outlook']) {
      const { deps, recorded } = roundWith(provider);
      const outcome = await verifySandboxRound(deps, CLIENT, EMULATOR, 'ops@fleet.example');
      assert.equal(outcome.status, 'pass', provider);
      assert.equal(recorded[0]?.details['connection'], provider);
    }
  });

  test('an agent refusing the mailbox as another account fails, saying so', async () => {
    const { deps, recorded } = roundWith('wrong account');
    const outcome = await verifySandboxRound(deps, CLIENT, EMULATOR, 'ops@fleet.example');
    assert.equal(outcome.status, 'fail');
    assert.equal(outcome.evidence.length, 1);
    assert.match(outcome.evidence[0] ?? '', /another account than its config’s mailbox/);
    assert.equal(recorded.length, 0, 'nothing recorded');
  });

  test('any other state is not connected, quoted briefly', async () => {
    for (const state of ['not connected', 'account unconfirmed', 'reconnecting', 'x'.repeat(5000)]) {
      const { deps, recorded } = roundWith(state);
      const outcome = await verifySandboxRound(deps, CLIENT, EMULATOR, 'ops@fleet.example');
      assert.equal(outcome.status, 'fail', state.slice(0, 20));
      assert.match(outcome.evidence[0] ?? '', /^the agent is not connected to the emulator’s mailbox/);
      assert.ok((outcome.evidence[0]?.length ?? 0) < 200, 'the quoted state is bounded');
      assert.equal(recorded.length, 0);
    }
  });

  test('a missing or non-text connection state is not connected', async () => {
    for (const state of [undefined, '', 1, { kind: 'gmail' }]) {
      const { deps } = roundWith(state);
      const outcome = await verifySandboxRound(deps, CLIENT, EMULATOR, 'ops@fleet.example');
      assert.equal(outcome.status, 'fail');
      assert.deepEqual(outcome.evidence, ['the agent is not connected to the emulator’s mailbox']);
    }
  });

  test('counts that are not numbers neither pass the round nor reach the evidence whole', async () => {
    const { deps, recorded } = roundWith('gmail', {
      messages: { done: '5' },
      outbox: { sent: 'y'.repeat(5000) },
    });
    const outcome = await verifySandboxRound(deps, CLIENT, EMULATOR, 'ops@fleet.example');
    assert.equal(outcome.status, 'fail');
    assert.deepEqual(outcome.evidence, [
      'no message has gone through the whole loop yet',
      'the agent did not say how many emails it sent',
    ]);
    assert.equal(recorded.length, 0);
  });
});
