// The complete export on a real agent container: through the real `fleet` CLI, checked offline, tampered
// with, and taken again from the volume of a killed client whose agent no longer runs.
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { resourceNames } from '@agent-fleet/kernel/client-id';
import { createVaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { docker } from '../../helpers/fleet-fixture.ts';
import { ADMIN, KNOWN } from '../agent/agent-harness.ts';
import { jsonLines, readArchive } from './archive-files.ts';
import { count, lifecycleClient, type LifecycleClient } from './lifecycle-bed.ts';

/** An export's destination whose first write waits until released, so the read can be looked at while it is open. */
function heldOutput() {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let firstWrite!: () => void;
  const writing = new Promise<void>((resolve) => (firstWrite = resolve));
  const chunks: Buffer[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      firstWrite();
      void held.then(() => done());
    },
  });
  return { output, writing, release, chunks };
}

describe('the complete export of a client on a real agent container', () => {
  let bed: LifecycleClient;
  let dir: string;
  let publicKey: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-export-'));
    bed = await lifecycleClient({ octet: 231, stem: 'ex' });
    await bed.processInboxAndSendOne();
    publicKey = path.join(dir, 'export-public-key.pem');
    const written = await bed.cli(['export', 'public-key', '--out', publicKey]);
    assert.equal(written.code, 0, written.stderr);
  });
  after(async () => {
    await bed?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('an operator without an approved support grant gets nothing', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'refused.tar');
    const run = await bed.cli(['export', bed.clientId, '--out', out]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /no active support grant/);
    await assert.rejects(access(out));
  });

  it('export, verify offline, tamper one byte, verify fails naming the file', { timeout: 300_000 }, async () => {
    await bed.grantSupport(bed.member.name);
    const out = path.join(dir, `${bed.clientId}.tar`);
    const run = await bed.cli(['export', bed.clientId, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const files = await readArchive(out);
    for (const name of ['README.md', 'MANIFEST.json', 'MANIFEST.sig', 'client/client.json', 'settings/config.yaml', 'settings/agent-config.yaml', 'settings/config-changes.jsonl', 'mailbox/connection.json', 'audit/audit-log.jsonl', 'audit/audit-log.csv', 'approvals/approvals.jsonl', 'mail/outbox.jsonl', 'summaries/daily-summaries.jsonl', 'ops-log/ops-log.jsonl']) {
      assert.ok(files.has(name), `${name} is in the export`);
    }
    const audit = jsonLines(files.get('audit/audit-log.jsonl'));
    assert.ok(count(audit as never, 'email_read', 'success') >= 6);
    assert.deepEqual(audit.map((record) => record['seq']), audit.map((_, index) => index + 1), 'the whole chain from record 1');
    assert.equal((files.get('audit/audit-log.csv') ?? Buffer.alloc(0)).toString().trimEnd().split('\r\n').length, audit.length + 1, 'CSV: a header and one row per record');
    const approvals = jsonLines(files.get('approvals/approvals.jsonl'));
    assert.ok(approvals.filter((approval) => approval['status'] === 'pending').length >= 3);
    assert.deepEqual(approvals.filter((approval) => approval['status'] === 'approved').map((approval) => (approval['decision'] as { by: string }).by), [ADMIN]);
    assert.ok(approvals.every((approval) => approval['proposedArguments'] !== undefined), 'each approval carries its draft');
    const sent = jsonLines(files.get('mail/outbox.jsonl')).filter((entry) => entry['status'] === 'sent');
    assert.deepEqual(sent.map((entry) => (entry['message'] as { to: string[] }).to), [[KNOWN]]);
    assert.ok(jsonLines(files.get('summaries/daily-summaries.jsonl')).some((line) => line['kind'] === 'daily-report'));
    assert.equal(jsonLines(files.get('settings/config-changes.jsonl')).length, 1);
    assert.match((files.get('settings/agent-config.yaml') ?? '').toString(), new RegExp(bed.clientId));
    const connection = JSON.parse((files.get('mailbox/connection.json') ?? '').toString()) as { provider: string; scopes: string[]; storedSecrets: { name: string }[] };
    assert.equal(connection.provider, 'gmail');
    assert.ok(connection.scopes.includes('https://www.googleapis.com/auth/gmail.send'));
    assert.deepEqual(connection.storedSecrets.map((secret) => secret.name).filter((name) => name === 'gmail'), ['gmail']);
    const everything = await readFile(out);
    assert.equal(everything.indexOf(bed.gmail.clientSecret), -1, 'no OAuth secret in the export');
    assert.equal(everything.indexOf('1//rt-'), -1, 'no refresh token in the export');
    assert.ok(jsonLines(files.get('ops-log/ops-log.jsonl')).some((entry) => entry['action'] === 'support-access'));

    const verified = await bed.cli(['export', 'verify', out, '--public-key', publicKey, '--client', bed.clientId]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /OK/);

    // One byte of the audit log's content, changed in place.
    const marker = Buffer.from('"action_type":"email_read"');
    const at = everything.indexOf(marker);
    assert.ok(at > 0);
    const tampered = Buffer.from(everything);
    tampered[at + marker.length - 2] = 'x'.charCodeAt(0);
    const tamperedFile = path.join(dir, 'tampered.tar');
    await writeFile(tamperedFile, tampered);
    const refused = await bed.cli(['export', 'verify', tamperedFile, '--public-key', publicKey]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout, /digest-mismatch: audit\/audit-log\.jsonl does not match its SHA-256/);
  });

  it('a killed client is exported from its volume by a reader, and stays locked', { timeout: 300_000 }, async () => {
    const before = await bed.audit();
    const killed = await bed.fleet.orchestrator.kill.kill({ clientId: bed.clientId, reason: 'incident', actor: 'test' });
    assert.equal((await docker.getContainer(`fleet-${bed.clientId}`).inspect()).State.Running, false);
    const out = path.join(dir, 'killed.tar');
    const run = await bed.cli(['export', bed.clientId, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const audit = jsonLines((await readArchive(out)).get('audit/audit-log.jsonl'));
    assert.ok(audit.length >= before.length, 'every record');
    assert.deepEqual(audit.slice(0, before.length).map((record) => record['seq']), before.map((record) => record.seq));
    // The kill is in the log when the agent heard of it before it was stopped.
    if (killed.agentNotified) assert.ok(audit.some((record) => record['action_type'] === 'kill'));
    assert.equal((await bed.cli(['export', 'verify', out, '--public-key', publicKey])).code, 0);

    // A revive while such a read is open is refused: the export locks the policy again when it ends, which
    // would lock out an agent revived meanwhile.
    const held = heldOutput();
    const exported = bed.fleet.orchestrator.dataLifecycle.exports.export({ clientId: bed.clientId, requester: { kind: 'operator', member: bed.member.name } }, held.output);
    await held.writing;
    await assert.rejects(bed.fleet.orchestrator.revive.revive({ clientId: bed.clientId, reason: 'incident over', actor: 'test' }), /a data export is in progress/);
    assert.equal((await bed.fleet.orchestrator.registry.getClient(bed.clientId))?.status, 'killed', 'the refused revive changed nothing');
    held.release();
    await exported;

    // The reader is gone, the client stays killed, and its policy is locked again.
    assert.deepEqual((await docker.listContainers({ all: true, filters: { name: [`fleet-${bed.clientId}-reader`] } })).length, 0);
    assert.equal((await bed.fleet.orchestrator.registry.getClient(bed.clientId))?.status, 'killed');
    const embedded = bed.fleet.orchestrator.secretBackend.embedded;
    assert.ok(embedded);
    const introduction = await bed.fleet.orchestrator.secretBackend.store.issueAgentIntroduction(bed.clientId);
    const vault = createVaultClient({ endpoint: embedded.url, token: introduction.wrappingToken, caPem: embedded.caCertificatePem });
    const unwrapped = (await vault.write('sys/wrapping/unwrap', {})) as { auth: { client_token: string } };
    const agentVault = createVaultClient({ endpoint: embedded.url, token: unwrapped.auth.client_token, caPem: embedded.caCertificatePem });
    await assert.rejects(agentVault.read(`fleet/data/${bed.clientId}/control`), /403|denied/i);
  });

  it('a closed client is exported from the volume kept for its retention; its network is back only for the read', { timeout: 300_000 }, async () => {
    const orchestrator = bed.fleet.orchestrator;
    const whileKilled = jsonLines((await readArchive(path.join(dir, 'killed.tar'))).get('audit/audit-log.jsonl'));
    await orchestrator.deprovision.deprovision({ clientId: bed.clientId, purge: false, actor: 'test', reason: 'contract ended' });
    const network = resourceNames(bed.clientId).network;
    const networkExists = () => docker.getNetwork(network).inspect().then(() => true, () => false);
    assert.equal(await networkExists(), false, 'closure removed the network');
    assert.equal((await orchestrator.registry.getClient(bed.clientId))?.subnet, null);

    const { output, writing, release: releaseOutput, chunks } = heldOutput();
    const exported = orchestrator.dataLifecycle.exports.export({ clientId: bed.clientId, requester: { kind: 'operator', member: bed.member.name } }, output);
    await writing;
    assert.equal(await networkExists(), true, 'the network is back for the read');
    assert.equal((await docker.listContainers({ filters: { name: [`fleet-${bed.clientId}-reader`] } })).length, 1, 'its reader runs');
    await orchestrator.reconcile.reconcile();
    assert.equal(await networkExists(), true, 'the reconciler leaves a network in use by the export alone');
    await assert.rejects(orchestrator.provision.provision({ clientId: bed.clientId, actor: 'test' }), /a data export is in progress/);
    releaseOutput();
    const manifest = await exported;
    assert.ok(manifest.files.some((entry) => entry.name === 'audit/audit-log.jsonl'));

    const file = path.join(dir, 'closed.tar');
    await writeFile(file, Buffer.concat(chunks));
    const files = await readArchive(file);
    const audit = jsonLines(files.get('audit/audit-log.jsonl'));
    assert.deepEqual(audit.map((record) => record['seq']), whileKilled.map((record) => record['seq']), 'the whole log, as it was at closure');
    assert.ok(jsonLines(files.get('ops-log/ops-log.jsonl')).some((entry) => entry['action'] === 'deprovision'));
    assert.equal((await bed.cli(['export', 'verify', file, '--public-key', publicKey, '--client', bed.clientId])).code, 0);

    // Closed as before: no network, no subnet, no reader, still deprovisioned, and the killed client's policy still locked.
    assert.equal(await networkExists(), false);
    const after = await orchestrator.registry.getClient(bed.clientId);
    assert.deepEqual([after?.status, after?.subnet], ['deprovisioned', null]);
    assert.equal((await docker.listContainers({ all: true, filters: { name: [`fleet-${bed.clientId}-reader`] } })).length, 0);
    assert.equal(await orchestrator.secretBackend.store.isLocked(bed.clientId), true);
    const logged = (await orchestrator.registry.listOpsLog({ clientId: bed.clientId })).filter((entry) => entry.action === 'export').at(-1);
    assert.equal(logged?.details['via'], 'volume-reader');
  });
});
