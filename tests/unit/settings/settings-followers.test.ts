// The runtime's settings outlive each opened volume: a volume closed after a failed start must stop
// hearing of settings versions, or every retried start leaves one more listener acting on closed parts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { SettingsDesk } from '../../../agent-image/src/services/settings/settings-desk.ts';
import { SettingsHistory } from '../../../agent-image/src/services/settings/settings-history.ts';
import { LiveSettings } from '../../../agent-image/src/services/settings/settings-source.ts';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

function config(bulkThreshold: number): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', bulkThreshold, permissions: { 'mail.read': true } });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

/** One open of the volume's settings, as openVolume makes it. */
async function openDesk(directory: string, keys: KeyRing, live: LiveSettings, file: ClientConfig) {
  const audit = await AuditLog.open({ directory: join(directory, 'audit'), keys, now: () => NOW });
  const history = await SettingsHistory.open({ directory: join(directory, 'state'), keys, now: () => NOW });
  const desk = new SettingsDesk({ history, live, audit, now: () => NOW, logger: createSilentLogger() });
  await desk.adoptFile(file);
  return { desk, close: async () => (await desk.close(), await audit.close()) };
}

describe('settings listeners', () => {
  test('a listener removed from the live settings hears of no later version', () => {
    const live = new LiveSettings(config(5));
    const heard: number[] = [];
    const stop = live.onChange((next) => heard.push(next.version));
    live.apply(1, 'h1', config(6));
    stop();
    stop();
    live.apply(2, 'h2', config(7));
    assert.deepEqual(heard, [1]);
  });

  test('a listener that throws keeps the version applied and from none of the others; the error is reported', () => {
    const reported: unknown[] = [];
    const live = new LiveSettings(config(5), (error) => reported.push(error));
    const heard: number[] = [];
    live.onChange(() => {
      throw new Error('the summary schedule is closed');
    });
    live.onChange((next) => heard.push(next.version));
    assert.equal(live.apply(1, 'h1', config(6)).version, 1);
    assert.equal(live.current().config.bulkThreshold, 6);
    assert.deepEqual(heard, [1]);
    assert.equal(reported.length, 1);
  });

  test("a closed desk's followers are not told of the versions a later open of the volume applies", async () => {
    const directory = await mkdtemp(join(tmpdir(), 'settings-followers-'));
    directories.push(directory);
    const keys = KeyRing.single(randomBytes(32));
    const live = new LiveSettings(config(5));
    const failedStart = await openDesk(directory, keys, live, config(5));
    const heardByClosed: number[] = [];
    failedStart.desk.follow((next) => heardByClosed.push(next.config.bulkThreshold));
    await failedStart.close();

    const retried = await openDesk(directory, keys, live, config(5));
    const heard: number[] = [];
    retried.desk.follow((next) => heard.push(next.config.bulkThreshold));
    const base = JSON.parse(JSON.stringify(live.current().config)) as Record<string, unknown>;
    await retried.desk.change({ baseVersion: live.current().version, document: { ...base, bulkThreshold: 3 }, author: { kind: 'operator', id: 'ops' }, reason: 'test', confirm: [] });
    await retried.close();

    assert.deepEqual(heard, [3]);
    assert.deepEqual(heardByClosed, [], 'the closed desk heard a later version');
  });
});
