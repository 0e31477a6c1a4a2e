import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AGENT_TLS_HANDOVER_FILE } from '@agent-fleet/kernel/agent-identity';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  AGENT_SEALED_CONFIG_FILE,
  newAgentConfigKey,
  openAgentConfig,
  sealAgentConfig,
  sealedAgentConfigClient,
} from '@agent-fleet/kernel/sealed-agent-config';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import { agentConfigDocumentOf, TlsArmedRuntime } from '../../../orchestrator/src/services/agent-tls/tls-armed-runtime.ts';

const acme = parseClientId('acme');
const globex = parseClientId('globex');
const DOCUMENT = '{"client":"acme","admins":["boss@acme.example"]}\n';

const integrity = (pattern: RegExp) => (error: unknown) => isFleetError(error) && error.code === 'integrity' && pattern.test(error.message);

describe('the agent config sealed in its volume', () => {
  test('opens under its key for its client, and holds nothing of the document in the clear', () => {
    const key = newAgentConfigKey();
    const sealed = sealAgentConfig(DOCUMENT, acme, key);
    assert.equal(sealed.includes('boss@acme.example'), false);
    assert.equal(sealedAgentConfigClient(sealed), acme);
    assert.equal(openAgentConfig(sealed, acme, key), DOCUMENT);
  });

  test('another start’s key, another client, or an altered byte do not open it', () => {
    const key = newAgentConfigKey();
    const sealed = sealAgentConfig(DOCUMENT, acme, key);
    assert.throws(() => openAgentConfig(sealed, acme, newAgentConfigKey()), integrity(/does not open under the key of this start/));
    assert.throws(() => openAgentConfig(sealed, globex, key), integrity(/is for "acme", not globex/));
    // The client named in the clear is bound to the ciphertext: relabelled, it does not open for the new name either.
    const relabelled = sealed.replace('"client":"acme"', '"client":"globex"');
    assert.equal(sealedAgentConfigClient(relabelled), globex);
    assert.throws(() => openAgentConfig(relabelled, globex, key), integrity(/does not open/));
    const envelope = JSON.parse(sealed) as { ciphertext: string };
    const flipped = Buffer.from(envelope.ciphertext, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    assert.throws(() => openAgentConfig(JSON.stringify({ ...envelope, ciphertext: flipped.toString('base64') }), acme, key), integrity(/does not open/));
  });

  test('what is not a sealed config, or a key that is not 256 bits, is refused by name', () => {
    const key = newAgentConfigKey();
    assert.throws(() => sealedAgentConfigClient('client: acme\n'), integrity(/not JSON/));
    assert.throws(() => sealedAgentConfigClient('{"format":"other"}'), integrity(/not in the agent-fleet\/sealed-config\/1 format/));
    assert.throws(() => sealedAgentConfigClient(sealAgentConfig(DOCUMENT, acme, key).replace('"client":"acme"', '"client":"ACME--x"')), integrity(/names no valid client/));
    assert.throws(() => sealAgentConfig(DOCUMENT, acme, Buffer.alloc(16).toString('base64')), integrity(/not a 256-bit key/));
  });
});

describe('TlsArmedRuntime: every Docker start gets its config sealed under the key of its own handover', () => {
  function armed(stored: string[]) {
    const placed: Record<string, string>[] = [];
    const inner = {
      kind: 'docker',
      volumes: {},
      inspectAgent: async () => null,
      startAgent: async () => undefined,
      placeFiles: async (_clientId: unknown, files: Record<string, string>) => {
        placed.push({ ...files });
      },
    } as unknown as ContainerRuntime;
    let handovers = 0;
    const runtime = new TlsArmedRuntime(inner, {
      tls: {
        renew: async () => ({ notAfter: new Date() }),
        handover: async () => {
          const configKey = newAgentConfigKey();
          stored.push(configKey);
          handovers += 1;
          return { wrappingToken: `wrap-${handovers}`, configKey };
        },
      },
      vaultCaPem: null,
      agentUser: '10001:10001',
      configDocumentFor: async () => DOCUMENT,
    });
    return { runtime, placed };
  }

  test('the handover and the config sealed under its key go in one copy, with no plaintext config', async () => {
    const keys: string[] = [];
    const { runtime, placed } = armed(keys);
    await runtime.startAgent(acme);
    await runtime.startAgent(acme);
    assert.equal(placed.length, 2);
    for (const [index, files] of placed.entries()) {
      assert.deepEqual(Object.keys(files).sort(), [AGENT_SEALED_CONFIG_FILE, AGENT_TLS_HANDOVER_FILE].sort());
      assert.equal(Object.values(files).some((text) => text.includes('boss@acme.example')), false);
      assert.equal(openAgentConfig(files[AGENT_SEALED_CONFIG_FILE] ?? '', acme, keys[index] ?? ''), DOCUMENT);
    }
    // Each start its own key: the first start's sealed config does not open under the second's.
    assert.throws(() => openAgentConfig(placed[0]?.[AGENT_SEALED_CONFIG_FILE] ?? '', acme, keys[1] ?? ''), /does not open/);
  });

  test('the document is the registry’s config, as the agent reads it; a client not in the registry is not_found', async () => {
    const registry = {
      getClient: async (id: unknown) => (id === acme ? ({ configYaml: 'client: acme\nadmins: [boss@acme.example]\n' } as never) : null),
    };
    assert.match(await agentConfigDocumentOf(registry, acme), /"admins":\s*\[\s*"boss@acme\.example"\s*\]/);
    await assert.rejects(agentConfigDocumentOf(registry, globex), (error) => isFleetError(error) && error.code === 'not_found');
  });
});

describe('the agent opens the config sealed for its start', () => {
  test('opens it with the handover’s key, and removes a plaintext config an older orchestrator left in the volume', async () => {
    const { mkdtemp, readdir, rm, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const { openSealedConfig, readSealedConfig } = await import('../../../agent-image/src/startup/sealed-config-file.ts');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealed-config-'));
    try {
      assert.equal(await readSealedConfig(dataDir), null, 'none placed: the agent reads AGENT_CONFIG_PATH instead (Kubernetes)');
      const key = newAgentConfigKey();
      await writeFile(path.join(dataDir, AGENT_SEALED_CONFIG_FILE), sealAgentConfig(DOCUMENT, acme, key));
      await writeFile(path.join(dataDir, 'config.yaml'), 'client: acme\nadmins: [boss@acme.example]\n');
      const sealed = (await readSealedConfig(dataDir)) ?? '';
      const legacyConfigPath = path.join(dataDir, 'config.yaml');
      await assert.rejects(openSealedConfig({ sealed, clientId: acme, configKey: null, dataDir, legacyConfigPath }), integrity(/carried no key/));
      await assert.rejects(openSealedConfig({ sealed, clientId: acme, configKey: newAgentConfigKey(), dataDir, legacyConfigPath }), integrity(/does not open/));
      assert.deepEqual((await readdir(dataDir)).sort(), ['config.sealed', 'config.yaml'], 'nothing removed while the sealed config does not open');
      const config = await openSealedConfig({ sealed, clientId: acme, configKey: key, dataDir, legacyConfigPath });
      assert.deepEqual(config.admins, ['boss@acme.example']);
      assert.deepEqual(await readdir(dataDir), ['config.sealed']);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
