// The agent on Kubernetes: Vault Agent writes the token to a sink file (no wrapped introduction needed),
// and the orchestrator's kill flag arrives in a read-only ConfigMap mount that the agent obeys but can
// never remove itself.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { VaultSecretSource } from '../../../agent-image/src/adapters/vault/vault-secret-source.ts';
import type { AnthropicEmulator } from '../../emulators/anthropic-emulator.ts';
import { agentBed } from '../../helpers/agent-bed.ts';
import { caFetch } from '../../helpers/agent-tls.ts';
import { waitFor } from '../../helpers/monitoring.ts';
import { KNOWN, clientConfig, uniqueClient, type AgentUnderTest, type MailboxUnderTest, type VaultFixture } from './agent-harness.ts';

describe('the agent with the Kubernetes layout', () => {
  const bed = agentBed({ mailbox: 'gmail' });
  let vault: VaultFixture;
  let mailbox: MailboxUnderTest;
  let anthropic: AnthropicEmulator;
  let scratch: string;

  before(async () => {
    ({ vault, mailbox, anthropic } = bed); // the bed's fixtures, by the names the tests use
    scratch = await mkdtemp(join(tmpdir(), 'agent-k8s-layout-'));
    bed.onTeardown(() => rm(scratch, { recursive: true, force: true }));
  });

  /** What Vault Agent does after its Kubernetes login: a token for the client, written to the sink. */
  async function vaultAgentToken(clientId: AgentUnderTest['id']): Promise<string> {
    const intro = await vault.store.issueAgentIntroduction(clientId);
    const response = await caFetch(`${vault.vault.url}/v1/sys/wrapping/unwrap`, vault.vault.caCertificatePem, { method: 'POST', headers: { 'X-Vault-Token': intro.wrappingToken } });
    assert.equal(response.status, 200);
    const token = ((await response.json()) as { auth: { client_token: string } }).auth.client_token;
    assert.ok(token.length > 0);
    return token;
  }

  async function kubernetesAgent(name: string, options: { withoutSecrets?: boolean } = {}) {
    const id = uniqueClient();
    const placedFilesDir = join(scratch, name, 'placed');
    const vaultSinkFile = join(scratch, name, 'vault', 'token');
    await mkdir(placedFilesDir, { recursive: true });
    await mkdir(join(scratch, name, 'vault'), { recursive: true });
    const agent = await bed.startAgent({
      config: clientConfig(id, mailbox.mailbox, 'gmail'),
      placedFilesDir,
      vaultSinkFile,
      vaultTokenCheckMs: 100,
      vaultTokenGraceMs: 1500,
      ...(options.withoutSecrets === true ? { withoutSecrets: true } : {}),
    });
    return { agent, placedFilesDir, vaultSinkFile };
  }

  test('introduces itself once Vault Agent has written the token file, with no wrapped introduction', async () => {
    const { agent, vaultSinkFile } = await kubernetesAgent('sink');
    agent.runtime.introduceFromSinkWhenPresent(20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(agent.runtime.lifecycle, 'awaiting_introduction', 'no token file yet: still waiting');
    await writeFile(vaultSinkFile, `${await vaultAgentToken(agent.id)}\n`, { mode: 0o600 });
    await waitFor('the agent to become ready from the token file', 10_000, async () => (agent.runtime.lifecycle === 'ready' ? true : undefined));
    const status = agent.runtime.status();
    assert.equal(status.vault, 'ok');
    assert.equal(status.connection, 'gmail');
  });

  test('follows Vault Agent to a new token, and stops when Vault refuses every token it has', async () => {
    const { agent, vaultSinkFile } = await kubernetesAgent('rotation', { withoutSecrets: true });
    await writeFile(vaultSinkFile, await vaultAgentToken(agent.id), { mode: 0o600 });
    agent.runtime.introduceFromSinkWhenPresent(20);
    await waitFor('the agent to become ready from the token file', 10_000, async () => (agent.runtime.lifecycle === 'ready' ? true : undefined));

    // A rotation: the old token is revoked first, and Vault Agent writes the new one a moment later. The
    // agent's periodic check (every 100 ms here) sees the refusal in between and waits for the file.
    await vault.store.revokeAgentTokens(agent.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const renewed = await vaultAgentToken(agent.id);
    await writeFile(vaultSinkFile, renewed, { mode: 0o600 });
    await vault.store.writeSecret(agent.id, 'gmail', mailbox.secretValue(agent.config));
    await vault.store.writeSecret(agent.id, 'anthropic', anthropic.apiKey);
    await agent.runtime.tick();
    assert.equal(agent.runtime.status().vault, 'ok', 'a refused token with a newer one in the file is not a revocation');
    assert.equal(agent.runtime.status().connection, 'gmail', 'the secrets were read with the new token');

    // The kill switch locks the client's policy: the file's token is refused too.
    await vault.store.lockClient(agent.id);
    await waitFor('the agent to see the revocation', 5000, async () => (agent.runtime.status().vault === 'revoked' ? true : undefined));
    // The fleet's own revocation (a kill, a rotation) is not the client withdrawing its mail consent: ConsentRevoked must not page.
    assert.ok((await agent.metric('agent_auth_failures_total', { kind: 'secret_store' })) >= 1);
    assert.equal(await agent.metric('agent_auth_failures_total', { kind: 'revoked' }), 0);
  });

  test('calls refused at once during a rotation all follow the new token: none counts as a revocation', async () => {
    const id = uniqueClient();
    await vault.store.ensureClient(id);
    const dir = join(scratch, 'concurrent');
    await mkdir(dir, { recursive: true });
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, await vaultAgentToken(id), { mode: 0o600 });
    const source = new VaultSecretSource({
      clientId: id,
      vaultAddr: vault.vault.url,
      caPem: vault.vault.caCertificatePem,
      wrappedKeyFile: join(dir, 'data-key.wrapped'),
      logger: createSilentLogger(),
      tokenFile,
      tokenCheckIntervalMs: 60_000,
      tokenFileGraceMs: 1500,
    });
    await source.start();
    let revoked = false;
    source.onRevoked(() => (revoked = true));
    try {
      // A rotation revokes first; three reads meet the refusal before Vault Agent writes the new token.
      await vault.store.revokeAgentTokens(id);
      const reads = [source.readSecrets(), source.readSecrets(), source.readSecrets()];
      await new Promise((resolve) => setTimeout(resolve, 300));
      await writeFile(tokenFile, await vaultAgentToken(id), { mode: 0o600 });
      const outcomes = await Promise.allSettled(reads);
      assert.deepEqual(outcomes.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : 'read')), ['read', 'read', 'read']);
      assert.equal(revoked, false);
    } finally {
      await source.stop();
    }
  });

  test('obeys a kill flag placed by the orchestrator and refuses a revive while it is there', async () => {
    const { agent, placedFilesDir } = await kubernetesAgent('placed');
    assert.equal(await agent.introduce(), 204);
    assert.equal(agent.runtime.status().killed, false);
    const flag = join(placedFilesDir, 'KILLED');
    await writeFile(flag, `${JSON.stringify({ killed: true, by: 'ops', reason: 'incident' })}\n`);
    assert.equal(agent.runtime.status().killed, true, 'the placed flag engages the kill switch');
    const drafts = mailbox.draftCount();
    await mailbox.seed({ from: KNOWN, subject: 'Invoice', text: 'Thanks!' });
    await agent.runtime.tick();
    assert.equal(mailbox.draftCount(), drafts, 'nothing is drafted while killed');

    const refused = await agent.call('POST', '/v1/revive', { by: 'ops', reason: 'resolved' });
    assert.equal(refused.status, 409, 'the agent cannot lift the orchestrator\'s flag itself');
    assert.equal(agent.runtime.status().killed, true);

    await rm(flag);
    const revived = await agent.call('POST', '/v1/revive', { by: 'ops', reason: 'resolved' });
    assert.equal(revived.status, 204);
    assert.equal(agent.runtime.status().killed, false);
  });
});
