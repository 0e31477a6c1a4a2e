// The settings desk over a real encrypted history and audit log in a temporary volume: versions, stale
// edits, guard rails, rollback, the 1 MiB limit, the config file at start, and tampering detected.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { SettingsDesk } from '../../../agent-image/src/services/settings/settings-desk.ts';
import { SettingsHistory } from '../../../agent-image/src/services/settings/settings-history.ts';
import { LiveSettings } from '../../../agent-image/src/services/settings/settings-source.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

const NOW = new Date('2026-03-02T10:00:00.000Z');
const ADMIN = { kind: 'admin', id: 'dana@acme.example' } as const;
const OPS = { kind: 'operator', id: 'alice@ops' } as const;

function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({
    client: 'acme',
    onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 },
    permissions: { 'mail.read': true, 'mail.draft': true, 'mail.send': true },
    ...overrides,
  });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

async function volume() {
  const directory = await mkdtemp(join(tmpdir(), 'settings-desk-'));
  directories.push(directory);
  return { directory, keys: KeyRing.single(randomBytes(32)) };
}

async function open(where: { directory: string; keys: KeyRing }, file: ClientConfig) {
  const audit = await AuditLog.open({ directory: join(where.directory, 'audit'), keys: where.keys, now: () => NOW });
  const history = await SettingsHistory.open({ directory: join(where.directory, 'state'), keys: where.keys, now: () => NOW });
  const live = new LiveSettings(file);
  const desk = new SettingsDesk({ history, live, audit, now: () => NOW, logger: createSilentLogger() });
  await desk.adoptFile(file);
  return { audit, live, desk, close: async () => (await desk.close(), await audit.close()) };
}

const document = (base: ClientConfig, change: Partial<ClientConfigInput>) => ({ ...JSON.parse(JSON.stringify(base)), ...change }) as unknown;

describe('settings desk', () => {
  test('the provisioned file is version 1; a change is version 2, applied at once and audited with its author', async () => {
    const { audit, live, desk, close } = await open(await volume(), config());
    assert.equal(live.current().version, 1);
    assert.equal(desk.head().author.id, 'provisioning');
    const v2 = await desk.change({ baseVersion: 1, document: document(live.current().config, { blockList: ['rival.example'] }), author: ADMIN, reason: 'competitor', confirm: [] });
    assert.equal(v2.version, 2);
    assert.equal(live.current().version, 2);
    assert.deepEqual(live.current().config.blockList, ['rival.example']);
    assert.equal(live.current().gate.evaluate({ kind: 'mail.send', to: ['x@rival.example'], subject: 's', body: 'b' }, { killed: false, paused: false, knownContacts: new Set(['x@rival.example']), knownDomains: new Set(), sendHistory: [], autoSendHistory: [] } as never, NOW).reasons[0], 'blocked_recipient');
    assert.deepEqual(v2.changes, [{ path: 'blockList', added: ['rival.example'], removed: [] }]);
    const records = (await audit.read()).filter((record) => record.action_type === 'config_change');
    assert.deepEqual(records.map((record) => [record.actor, record.parameters['settings_version']]), [['system', 1], ['admin:dana@acme.example', 2]]);
    assert.deepEqual(records[1]?.parameters['changed_fields'], ['blockList']);
    assert.equal(records[1]?.parameters['reason'], 'competitor');
    await close();
  });

  test('an edit that started from an older version is refused with who changed it and when; nothing changes', async () => {
    const { live, desk, close } = await open(await volume(), config());
    const base = live.current().config;
    await desk.change({ baseVersion: 1, document: document(base, { bulkThreshold: 3 }), author: ADMIN, reason: 'one', confirm: [] });
    await assert.rejects(
      desk.change({ baseVersion: 1, document: document(base, { bulkThreshold: 4 }), author: OPS, reason: 'two', confirm: [] }),
      (error: Error & { code?: string }) => error.code === 'conflict' && /^changed by dana@acme\.example \(client admin\) at 2026-03-02T10:00:00\.000Z.*reload$/.test(error.message),
    );
    assert.equal(live.current().config.bulkThreshold, 3);
    assert.equal(desk.head().version, 2);
    await close();
  });

  test('two concurrent edits from the same version: exactly one is made', async () => {
    const { live, desk, close } = await open(await volume(), config());
    const base = live.current().config;
    const results = await Promise.allSettled([
      desk.change({ baseVersion: 1, document: document(base, { bulkThreshold: 3 }), author: ADMIN, reason: 'a', confirm: [] }),
      desk.change({ baseVersion: 1, document: document(base, { bulkThreshold: 4 }), author: OPS, reason: 'b', confirm: [] }),
    ]);
    assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
    assert.equal(desk.head().version, 2);
    await close();
  });

  test('a guard rail needs its confirmation; confirmed, the version records it', async () => {
    const { live, desk, close } = await open(await volume(), config());
    const raised = document(live.current().config, { rateLimits: { perHour: 40, perDay: 100 } });
    await assert.rejects(desk.change({ baseVersion: 1, document: raised, author: ADMIN, reason: 'busy', confirm: [] }), /confirmation required.*rateLimits\.perHour/);
    assert.equal(live.current().config.rateLimits.perHour, 20);
    const made = await desk.change({ baseVersion: 1, document: raised, author: ADMIN, reason: 'busy', confirm: ['rateLimits.perHour'] });
    assert.deepEqual(made.guardRails, ['rateLimits.perHour']);
    await close();
  });

  test('invalid documents and documents over 1 MiB are refused naming the field; nothing is half applied', async () => {
    const { live, desk, close } = await open(await volume(), config());
    const base = live.current().config;
    await assert.rejects(desk.change({ baseVersion: 1, document: document(base, { rateLimits: { perHour: -1, perDay: 100 } }), author: ADMIN, reason: '', confirm: [] }), /rateLimits\.perHour/);
    const huge = document(base, { styleNotes: 'x'.repeat(1000), knownContacts: Array.from({ length: 60_000 }, (_, i) => `person${i}@example.com`) });
    await assert.rejects(desk.change({ baseVersion: 1, document: huge, author: ADMIN, reason: '', confirm: [] }), /larger than 1048576 bytes/);
    await assert.rejects(desk.change({ baseVersion: 1, document: document(base, { client: 'other' }), author: ADMIN, reason: '', confirm: [] }), /client: cannot change/);
    assert.equal(desk.head().version, 1);
    assert.equal(live.current().version, 1);
    await close();
  });

  test('a permission grant, a block-list removal or a removed admin arriving without its confirmation is refused by the agent itself', async () => {
    const { live, desk, close } = await open(await volume(), config({ blockList: ['rival.example'], admins: ['dana@acme.example', 'lee@acme.example'] }));
    const base = live.current().config;
    const loosened = document(base, { permissions: { ...base.permissions, 'crm.write': true }, blockList: [], admins: ['dana@acme.example'] });
    await assert.rejects(
      desk.change({ baseVersion: 1, document: loosened, author: ADMIN, reason: 'x', confirm: ['permissions.crm.write', 'blockList.removed'] }),
      /confirmation required; nothing was changed: admins\.removed/,
    );
    assert.equal(desk.head().version, 1);
    assert.deepEqual(live.current().config.blockList, ['rival.example']);
    const made = await desk.change({ baseVersion: 1, document: loosened, author: ADMIN, reason: 'x', confirm: ['permissions.crm.write', 'blockList.removed', 'admins.removed'] });
    assert.deepEqual(made.guardRails, ['permissions.crm.write', 'blockList.removed', 'admins.removed']);
    await close();
  });

  test('rollback makes a new version equal to the old one', async () => {
    const { live, desk, close } = await open(await volume(), config());
    await desk.change({ baseVersion: 1, document: document(live.current().config, { blockList: ['rival.example'] }), author: ADMIN, reason: 'block', confirm: [] });
    await assert.rejects(desk.rollback({ toVersion: 1, author: OPS, reason: 'mistake', confirm: [] }), /confirmation required; nothing was changed: blockList\.removed/);
    const back = await desk.rollback({ toVersion: 1, author: OPS, reason: 'mistake', confirm: ['blockList.removed'] });
    assert.equal(back.version, 3);
    assert.equal(back.rollbackOf, 1);
    assert.equal(back.configHash, desk.version(1).configHash);
    assert.deepEqual(live.current().config.blockList, []);
    await close();
  });

  test('at restart the head stays; a changed config file becomes a new version; the same old file does not', async () => {
    const where = await volume();
    const first = await open(where, config());
    await first.desk.change({ baseVersion: 1, document: document(first.live.current().config, { bulkThreshold: 2 }), author: ADMIN, reason: 'x', confirm: [] });
    await first.close();
    const again = await open(where, config());
    assert.equal(again.live.current().version, 2, 'the same file the head moved past changes nothing');
    assert.equal(again.live.current().config.bulkThreshold, 2);
    await again.close();
    const changed = await open(where, config({ bulkThreshold: 9 }));
    assert.equal(changed.live.current().version, 3);
    assert.equal(changed.desk.head().source, 'file');
    assert.equal(changed.desk.head().author.id, 'config-file');
    await changed.close();
  });

  test('the history is encrypted and tamper-evident: a removed version is an integrity error at open', async () => {
    const where = await volume();
    const first = await open(where, config());
    await first.desk.change({ baseVersion: 1, document: document(first.live.current().config, { blockList: ['secret-rival.example'] }), author: ADMIN, reason: 'x', confirm: [] });
    await first.close();
    const file = join(where.directory, 'state', 'settings.log');
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes('secret-rival'), 'encrypted at rest');
    const lines = text.trim().split('\n');
    await writeFile(file, `${lines[1]}\n`);
    await assert.rejects(SettingsHistory.open({ directory: join(where.directory, 'state'), keys: where.keys }), /settings|missing|order/);
  });
});
