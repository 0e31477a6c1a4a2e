import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { ProviderAuthError } from '../../../agent-image/src/ports/mail-provider.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import { PauseControl } from '../../../agent-image/src/services/runtime/pause-control.ts';
import { pauseNotice, type PauseNotice } from '../../../agent-image/src/services/runtime/pause-notices.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

const NOW = new Date('2026-03-02T10:00:00.000Z');

async function pauses() {
  const parsed = parseClientConfig({ client: 'acme', timezone: 'Europe/London', workingHours: { start: '09:00', end: '17:00' } });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const directory = await mkdtemp(join(tmpdir(), 'pause-control-'));
  directories.push(directory);
  const keys = KeyRing.single(randomBytes(32));
  const audit = await AuditLog.open({ directory: join(directory, 'audit'), keys, now: () => NOW });
  const state = await AgentStateStore.open({ directory: join(directory, 'state'), keys });
  const kill = new KillSwitch(join(directory, 'KILLED'));
  const registry = new Registry();
  const alerts: Array<{ key: string; notice: PauseNotice }> = [];
  const control = new PauseControl({
    config: parsed.config,
    state,
    audit,
    metrics: new AgentMetrics(registry, { client: 'acme', version: '1.0.0' }),
    kill,
    logger: createSilentLogger(),
    now: () => NOW,
    alert: async (key, notice) => alerts.push({ key, notice }),
    providerKind: () => 'gmail',
  });
  const paused = async () => (await registry.getSingleMetricAsString('agent_paused')).split('\n').find((line) => line.startsWith('agent_paused'));
  return { control, audit, state, kill, alerts, paused };
}

describe('pause control', () => {
  test('a send refused for its credentials pauses the whole agent once: audited, gauged, persisted, alerted', async () => {
    const { control, audit, state, alerts, paused } = await pauses();
    const flag = control.sendPause();
    await flag.raise('token revoked');
    await flag.raise('token revoked again');
    assert.equal(flag.authPause(), 'send refused: token revoked');
    assert.deepEqual(state.pause, { reason: 'auth', since: NOW.toISOString(), detail: 'send refused: token revoked' });
    assert.match(await paused() ?? '', / 1$/);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.key, `pause:auth:${NOW.toISOString()}`);
    assert.match(alerts[0]?.notice.subject ?? '', /lost access/);
    const records = await audit.read();
    assert.deepEqual(records.map((record) => [record.action_type, record.target, record.parameters['reason']]), [['pause', 'agent', 'auth']]);
  });

  test('a resume lifts the one flag (audited by whom), and a kill is never resumed', async () => {
    const { control, audit, state, kill } = await pauses();
    await control.pause('rate_limit', 'rate_limit_hour');
    assert.equal(control.sendPause().authPause(), null, 'a rate-limit pause does not stop the outbox');
    const lifted = await control.resume('ops');
    assert.equal(lifted?.reason, 'rate_limit');
    assert.equal(state.pause, null);
    assert.equal(await control.resume('ops'), null, 'nothing left to resume');
    const resumed = (await audit.read()).filter((record) => record.action_type === 'resume');
    assert.deepEqual(resumed.map((record) => [record.actor, record.target, record.approved_by]), [['admin:ops', 'sending', 'ops']]);
    kill.latch();
    await assert.rejects(control.resume('ops'), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
  });

  test('one expired access token is forgiven; a run of them, or a revoked grant, pauses', async () => {
    const { control, state } = await pauses();
    await control.onProviderAuthFailure(new ProviderAuthError('invalid_token', 'token expired'), 'sync');
    await control.onProviderAuthFailure(new ProviderAuthError('invalid_token', 'token expired'), 'sync');
    assert.equal(state.pause, null);
    await control.onProviderAuthFailure(new ProviderAuthError('invalid_token', 'token expired'), 'sync');
    assert.equal(control.current?.reason, 'auth');
    const revoked = await pauses();
    await revoked.control.onProviderAuthFailure(new ProviderAuthError('revoked', 'consent withdrawn'), 'sync');
    assert.equal(revoked.state.pause?.detail, 'revoked during sync');
    const failures = (await revoked.audit.read()).filter((record) => record.action_type === 'auth_failure');
    assert.deepEqual(failures.map((record) => [record.target, record.parameters['kind'], record.result]), [['gmail', 'revoked', 'failure']]);
  });

  test('the model service refusing the API key pauses at once, and the alert says it was the model, not the mailbox', async () => {
    const { control, state, alerts, audit } = await pauses();
    await control.onProviderAuthFailure(new ProviderAuthError('insufficient_scope', 'anthropic classify: API key rejected (401)', { service: 'model' }), 'process');
    assert.equal(state.pause?.reason, 'auth');
    assert.equal(state.pause?.detail, 'anthropic classify: API key rejected (401) during process');
    assert.match(alerts[0]?.notice.subject ?? '', /language model/);
    assert.match(alerts[0]?.notice.text ?? '', /refused the assistant's API key \(anthropic classify: API key rejected \(401\) during process\)/);
    assert.doesNotMatch(alerts[0]?.notice.text ?? '', /mailbox/);
    const failures = (await audit.read()).filter((record) => record.action_type === 'auth_failure');
    assert.deepEqual(failures.map((record) => record.target), ['model']);
  });

  test('the alert texts name the client and how to resume', () => {
    const limits = { perHour: 20, perDay: 100 };
    const auth = pauseNotice('auth', { client: 'acme', detail: 'revoked during sync', rateLimits: limits });
    assert.match(auth.text, /\(revoked during sync\).*fleet resume acme/s);
    const rate = pauseNotice('rate_limit', { client: 'acme', detail: 'x', rateLimits: limits });
    assert.match(rate.subject, /sending limit/);
    assert.match(rate.text, /20 per hour, 100 per day.*fleet resume acme/s);
  });

  test('pauses and resumes racing each other leave the flag the audit log tells', async () => {
    const { control, state, audit } = await pauses();
    /** Replays the pause and resume records: each resume lifts the pause in force, and the flag ends as the log says. */
    const flagFromAudit = async () => {
      let current: unknown = null;
      for (const record of await audit.read()) {
        if (record.action_type === 'pause') current = record.parameters['reason'];
        if (record.action_type === 'resume') {
          assert.equal(record.parameters['reason'], current, 'a resume records the pause it lifted');
          current = null;
        }
      }
      return current;
    };
    await control.pause('rate_limit', 'rate_limit_hour');
    // The mailbox refuses our credentials while an admin lifts the rate-limit pause.
    await Promise.all([control.pause('auth', 'revoked during sync'), control.resume('ops')]);
    assert.equal(state.pause?.reason ?? null, await flagFromAudit());
    await control.resume('ops');
    await Promise.all([control.pause('auth', 'revoked during sync'), control.pause('rate_limit', 'rate_limit_hour')]);
    assert.equal(state.pause?.reason, 'auth', 'a rate-limit pause landing late does not replace the auth pause');
    assert.equal(await flagFromAudit(), 'auth');
  });
});
