import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { AnthropicEmulator } from '../../emulators/anthropic-emulator.ts';
import { agentBed } from '../../helpers/agent-bed.ts';
import { clientConfig, uniqueClient, type AgentUnderTest, type MailboxUnderTest, type VaultFixture } from './agent-harness.ts';

describe('agent control API against a real embedded Vault', () => {
  const bed = agentBed({ mailbox: 'gmail' });
  let vault: VaultFixture;
  let mailbox: MailboxUnderTest;
  let anthropic: AnthropicEmulator;
  before(() => ({ vault, mailbox, anthropic } = bed)); // the bed's fixtures, by the names the tests use

  async function agent(options: { withoutSecrets?: boolean; config?: Parameters<typeof clientConfig>[3] } = {}): Promise<AgentUnderTest> {
    const id = uniqueClient();
    let current = await bed.startAgent({
      config: clientConfig(id, mailbox.mailbox, 'gmail', options.config),
      ...(options.withoutSecrets === true ? { withoutSecrets: true } : {}),
    });
    const handle: AgentUnderTest = new Proxy({} as AgentUnderTest, {
      get: (_target, property) => {
        if (property === 'restart') {
          return async () => {
            current = bed.track(await current.restart());
            return handle;
          };
        }
        return Reflect.get(current, property) as unknown;
      },
    });
    return handle;
  }

  test('before introduction only /healthz works; authenticated routes answer 503', async () => {
    const a = await agent();
    assert.equal((await a.call('GET', '/healthz', undefined, null)).status, 200);
    const ready = await a.call('GET', '/readyz', undefined, null);
    assert.equal(ready.status, 503);
    assert.deepEqual((ready.json as { reason: string }).reason, 'not_introduced');
    assert.equal((await a.call('GET', '/v1/status')).status, 503);
  });

  test('an introduction with the wrong creation path or a forged token is refused; a real one makes the agent ready', async () => {
    const a = await agent({ withoutSecrets: true });
    const intro = await vault.store.issueAgentIntroduction(a.id);
    const wrongPath = await a.call('POST', '/v1/introduce', { wrappingToken: intro.wrappingToken, creationPath: 'auth/token/create/fleet-other' }, null);
    assert.equal(wrongPath.status, 403);
    const forged = await a.call('POST', '/v1/introduce', { wrappingToken: 'hvs.not-a-real-wrap', creationPath: intro.creationPath }, null);
    assert.ok(forged.status === 400 || forged.status === 403, `forged introduction answered ${forged.status}`);
    const malformed = await a.call('POST', '/v1/introduce', { wrappingToken: 5 }, null);
    assert.equal(malformed.status, 400);
    assert.equal((await a.call('GET', '/readyz', undefined, null)).status, 503);
    const real = await a.call('POST', '/v1/introduce', { wrappingToken: intro.wrappingToken, creationPath: intro.creationPath }, null);
    assert.equal(real.status, 204);
    assert.equal((await a.call('GET', '/readyz', undefined, null)).status, 200);
    assert.equal(await a.metric('agent_audit_chain_valid'), 1);
    assert.ok(existsSync(join(a.dataDir, 'keys', 'data-key.wrapped')));
    // A second redemption of the same wrap fails: it was single use.
    const replay = await a.call('POST', '/v1/introduce', { wrappingToken: intro.wrappingToken, creationPath: intro.creationPath }, null);
    assert.ok(replay.status === 400 || replay.status === 403);
    // No secrets yet: ready but idle.
    const status = await a.call('GET', '/v1/status');
    assert.equal((status.json as { connection: string }).connection, 'not connected');
    // Rotation: a new introduction replaces the token and the agent stays ready.
    assert.equal(await a.introduce(), 204);
    assert.equal((await a.call('GET', '/v1/status')).status, 200);
  });

  test('an idle agent connects at its next round once the mailbox and model secrets are stored', async () => {
    const a = await agent({ withoutSecrets: true });
    assert.equal(await a.introduce(), 204);
    await a.runtime.tick();
    assert.equal(a.runtime.status().connection, 'not connected');
    await vault.store.writeSecret(a.id, 'gmail', mailbox.secretValue(a.config));
    await vault.store.writeSecret(a.id, 'anthropic', anthropic.apiKey);
    await a.runtime.tick();
    assert.equal(a.runtime.status().connection, 'gmail');
  });

  test('the public notification route refuses a flood with 429 after its per-minute budget', async () => {
    const a = await agent();
    const statuses: number[] = [];
    for (let batch = 0; batch < 13; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => a.call('POST', '/v1/mail-notifications', { value: [{ clientState: 'forged' }] }, null)),
      );
      statuses.push(...answers.map((answer) => answer.status));
    }
    const limited = statuses.filter((status) => status === 429).length;
    assert.equal(statuses.length - limited, 600, 'exactly the budget reaches the handler');
    assert.equal(limited, 50);
    assert.ok(statuses.slice(0, 600).every((status) => status !== 429 && status >= 400), 'forged notifications are refused by the handler');
    // The control API itself is not part of that budget.
    assert.equal((await a.call('GET', '/healthz', undefined, null)).status, 200);
  });

  test('authenticated routes reject a missing or wrong control token', async () => {
    const a = await agent({ withoutSecrets: true });
    assert.equal(await a.introduce(), 204);
    for (const path of ['/v1/status', '/v1/approvals?status=pending', '/v1/audit/head', '/v1/audit/verify']) {
      assert.equal((await a.call('GET', path, undefined, null)).status, 401, path);
      assert.equal((await a.call('GET', path, undefined, 'wrong-token')).status, 401, path);
      assert.equal((await a.call('GET', path)).status, 200, path);
    }
    assert.equal((await a.call('POST', '/v1/kill', { reason: 'x', by: 'ops' }, 'wrong-token')).status, 401);
    const head = (await a.call('GET', '/v1/audit/head')).json as { seq: number; hash: string };
    assert.ok(head.seq >= 1, 'the config record is audited at start');
    const verified = await a.call('GET', `/v1/audit/verify?seq=${head.seq}&hash=${head.hash}`);
    assert.equal((verified.json as { ok: boolean }).ok, true);
    const mismatch = await a.call('GET', `/v1/audit/verify?seq=${head.seq}&hash=${'0'.repeat(64)}`);
    assert.equal((mismatch.json as { ok: boolean }).ok, false);
    // Before the orchestrator moves its checkpoint: does the chain still hold the one it has?
    const holds = (await a.call('GET', `/v1/audit/verify?seq=${head.seq}&hash=${head.hash}&scope=extension`)).json as { ok: boolean };
    assert.equal(holds.ok, true);
    const rewritten = (await a.call('GET', `/v1/audit/verify?seq=${head.seq}&hash=${'0'.repeat(64)}&scope=extension`)).json as { ok: boolean; break?: { kind: string } };
    assert.deepEqual([rewritten.ok, rewritten.break?.kind], [false, 'rewritten']);
    assert.equal((await a.call('GET', '/v1/audit/verify?scope=extension')).status, 400, 'an extension check needs the checkpoint');
  });

  test('kill persists across a restart, is audited and blocks every model call and send', async () => {
    const a = await agent();
    assert.equal(await a.introduce(), 204);
    await a.runtime.tick(); // sets the sync cursor
    await mailbox.seed({ from: 'kim@partner.example', subject: 'Invoice', text: 'We received the invoice, thanks.' });
    const modelCalls = anthropic.received.length;
    const sends = mailbox.sent().length;
    assert.equal((await a.call('POST', '/v1/kill', { reason: 'incident 42', by: 'ops@fleet' })).status, 204);
    assert.ok(existsSync(join(a.dataDir, 'KILLED')));
    assert.equal(await a.metric('agent_killed'), 1);
    await a.runtime.tick();
    assert.equal(anthropic.received.length, modelCalls, 'no model call after the kill');
    await a.restart();
    assert.equal(await a.introduce(), 204);
    const status = (await a.call('GET', '/v1/status')).json as { killed: boolean };
    assert.equal(status.killed, true);
    assert.equal(await a.metric('agent_killed'), 1);
    await a.runtime.tick();
    assert.equal(anthropic.received.length, modelCalls, 'no model call after a restart either');
    assert.equal(mailbox.sent().length, sends);
    assert.equal((await a.call('POST', '/v1/resume', { by: 'ops' })).status, 409, 'a kill is not resumed');
    const kills = (await a.auditRecords()).filter((record) => record.action_type === 'kill');
    assert.equal(kills.length, 1);
    assert.equal(kills[0]?.actor, 'admin:ops@fleet');
  });

  test('what the kill switch stopped does not go out at the revive: an approval given meanwhile is asked again, and goes once when approved', async () => {
    const a = await agent();
    assert.equal(await a.introduce(), 204);
    await a.runtime.tick();
    await mailbox.seed({ from: 'stopped-lead@killco.example', subject: 'Services', text: 'Hello, I am interested in your services.' });
    await a.runtime.tick();
    type Listed = { approvals: { id: string; reasons: string[]; recipients: string[] }[] };
    const [first] = ((await a.call('GET', '/v1/approvals?status=pending')).json as Listed).approvals;
    assert.ok(first);
    const before = mailbox.sent().length;
    assert.equal((await a.call('POST', '/v1/kill', { reason: 'it wrote to the wrong people', by: 'boss' })).status, 204);
    assert.equal((await a.call('POST', `/v1/approvals/${first.id}/decision`, { decision: 'approve', by: 'boss' })).status, 200);
    assert.equal((await a.call('POST', '/v1/revive', { reason: 'fixed', by: 'boss' })).status, 204);
    await a.runtime.tick();
    assert.equal(mailbox.sent().length, before, 'nothing the kill stopped went out at the revive');
    const [held, ...more] = ((await a.call('GET', '/v1/approvals?status=pending')).json as Listed).approvals;
    assert.ok(held !== undefined && more.length === 0);
    assert.deepEqual(held.reasons, ['held_by_kill_switch']);
    assert.deepEqual(held.recipients, ['stopped-lead@killco.example']);
    assert.equal((await a.call('POST', `/v1/approvals/${held.id}/decision`, { decision: 'approve', by: 'boss' })).status, 200);
    assert.equal(mailbox.sent().length, before + 1);
    await a.runtime.tick();
    assert.equal(mailbox.sent().length, before + 1, 'never twice');
  });

  test('an edited approval sends exactly the approved arguments, once', async () => {
    const a = await agent();
    assert.equal(await a.introduce(), 204);
    await a.runtime.tick();
    await mailbox.seed({ from: 'newperson@newco.example', subject: 'Services', text: 'Hello, I am interested in your services.' });
    await a.runtime.tick();
    const listed = (await a.call('GET', '/v1/approvals?status=pending')).json as {
      approvals: { id: string; recipients: string[]; subject: string; bodyPreview: string; reasons: string[]; arguments: Record<string, unknown> }[];
    };
    assert.equal(listed.approvals.length, 1);
    const approval = listed.approvals[0]!;
    assert.deepEqual(approval.recipients, ['newperson@newco.example']);
    assert.ok(approval.reasons.includes('new_contact'));
    assert.equal(await a.metric('agent_approvals_pending'), 1);
    const before = mailbox.sent().length;
    const edited = { ...approval.arguments, body: 'Edited by the admin: our price list is attached.' };
    const bad = await a.call('POST', `/v1/approvals/${approval.id}/decision`, { decision: 'edit', by: 'boss', arguments: { ...edited, kind: 'mail.delete' } });
    assert.equal(bad.status, 400);
    const decided = await a.call('POST', `/v1/approvals/${approval.id}/decision`, { decision: 'edit', by: 'boss', arguments: edited });
    assert.equal(decided.status, 200);
    const sent = mailbox.sent().slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.body, 'Edited by the admin: our price list is attached.');
    assert.deepEqual(sent[0]?.to, ['newperson@newco.example']);
    assert.deepEqual([sent[0]?.autoSubmitted, sent[0]?.autoResponseSuppress], [null, null], 'an edited reply is a human answer: not marked automatic');
    const again = await a.call('POST', `/v1/approvals/${approval.id}/decision`, { decision: 'approve', by: 'boss' });
    assert.equal(again.status, 409);
    assert.equal((await a.call('POST', '/v1/approvals/ap_unknown/decision', { decision: 'approve', by: 'boss' })).status, 404);
    await a.runtime.tick();
    assert.equal(mailbox.sent().length, before + 1, 'never sent twice');
    const decidedRecords = (await a.auditRecords()).filter((record) => record.action_type === 'approval_decided');
    assert.equal(decidedRecords.length, 1);
    assert.equal(decidedRecords[0]?.approval_status, 'edited');
    assert.equal(await a.metric('agent_approvals_pending'), 0);
  });

  test('a rejection needs a reason, and an expired approval never executes', async () => {
    const a = await agent();
    assert.equal(await a.introduce(), 204);
    await a.runtime.tick();
    await mailbox.seed({ from: 'first@newco.example', subject: 'Q1', text: 'I am interested, question one.' });
    await mailbox.seed({ from: 'second@newco.example', subject: 'Q2', text: 'I am interested, question two.' });
    await a.runtime.tick();
    const pending = ((await a.call('GET', '/v1/approvals?status=pending')).json as { approvals: { id: string }[] }).approvals;
    assert.equal(pending.length, 2);
    const [one, two] = pending as [{ id: string }, { id: string }];
    assert.equal((await a.call('POST', `/v1/approvals/${one.id}/decision`, { decision: 'reject', by: 'boss' })).status, 400);
    assert.equal((await a.call('POST', `/v1/approvals/${one.id}/decision`, { decision: 'reject', by: 'boss', reason: 'not a lead' })).status, 200);
    const before = mailbox.sent().length;
    a.clock.now = new Date(a.clock.now.getTime() + 73 * 3_600_000);
    assert.equal(((await a.call('GET', '/v1/approvals?status=expired')).json as { approvals: unknown[] }).approvals.length, 1);
    assert.equal(await a.runtime.sweepExpiredApprovals(), 1);
    assert.equal(await a.metric('agent_approvals_expired_total'), 1);
    assert.equal((await a.call('POST', `/v1/approvals/${two.id}/decision`, { decision: 'approve', by: 'boss' })).status, 409);
    await a.runtime.tick();
    assert.equal(mailbox.sent().length, before, 'neither the rejected nor the expired one was sent');
    const records = await a.auditRecords();
    assert.equal(records.filter((record) => record.action_type === 'approval_expired').length, 1);
    assert.equal(records.filter((record) => record.action_type === 'approval_decided').length, 1);
  });
});
