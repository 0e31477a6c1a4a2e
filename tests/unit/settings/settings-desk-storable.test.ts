// The agent refuses, at its own control API, a settings document whose stored forms (the config file placed
// for it at the next start, the registry's YAML copy) are over 1 MiB though its canonical JSON is not.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { MAX_CONFIG_BYTES, renderAgentConfigJson } from '@agent-fleet/kernel/client-config-document';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { MAX_SETTINGS_BYTES, settingsDocumentBytes } from '@agent-fleet/kernel/settings-version';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { SettingsDesk } from '../../../agent-image/src/services/settings/settings-desk.ts';
import { SettingsHistory } from '../../../agent-image/src/services/settings/settings-history.ts';
import { LiveSettings } from '../../../agent-image/src/services/settings/settings-source.ts';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const ADMIN = { kind: 'admin', id: 'dana@acme.example' } as const;
const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

function config(input: Record<string, unknown>): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 }, ...input });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

async function openDesk() {
  const directory = await mkdtemp(join(tmpdir(), 'settings-desk-storable-'));
  directories.push(directory);
  const keys = KeyRing.single(randomBytes(32));
  const audit = await AuditLog.open({ directory: join(directory, 'audit'), keys, now: () => NOW });
  const history = await SettingsHistory.open({ directory: join(directory, 'state'), keys, now: () => NOW });
  const file = config({});
  const live = new LiveSettings(file);
  const desk = new SettingsDesk({ history, live, audit, now: () => NOW, logger: createSilentLogger() });
  await desk.adoptFile(file);
  return { desk, live, close: async () => (await desk.close(), await audit.close()) };
}

const contacts = (count: number) => Array.from({ length: count }, (_, index) => `c${String(index).padStart(6, '0')}@a.example`);

describe('settings desk: the stored forms of a version', () => {
  test('a document under 1 MiB as canonical JSON but over it as the agent config file is refused; nothing changes', async () => {
    const { desk, live, close } = await openDesk();
    const document = JSON.parse(JSON.stringify(config({ knownContacts: contacts(50_000) }))) as unknown;
    assert.ok(settingsDocumentBytes(document) <= MAX_SETTINGS_BYTES, 'within the canonical JSON limit');
    assert.ok(Buffer.byteLength(renderAgentConfigJson(document) ?? '') > MAX_CONFIG_BYTES, 'over the limit as the config file');
    await assert.rejects(
      desk.change({ baseVersion: 1, document, author: ADMIN, reason: 'seed contacts', confirm: ['knownContacts.added'] }),
      (error: Error & { code?: string }) => error.code === 'invalid_input' && /larger than 1048576 bytes \(1 MiB\); nothing was changed/.test(error.message),
    );
    assert.equal(live.current().version, 1);
    assert.equal(desk.head().version, 1);
    await close();
  });

  test('a document within every limit is still taken', async () => {
    const { desk, close } = await openDesk();
    const document = JSON.parse(JSON.stringify(config({ knownContacts: contacts(1000) }))) as unknown;
    const version = await desk.change({ baseVersion: 1, document, author: ADMIN, reason: 'seed contacts', confirm: ['knownContacts.added'] });
    assert.equal(version.version, 2);
    await close();
  });
});
