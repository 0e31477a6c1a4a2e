// For tests that open and close a client's volume: data directories, what the open is given, and the
// check that the volume left none of its files held open.
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../agent-image/src/observability/agent-metrics.ts';
import { KillSwitch } from '../../agent-image/src/services/runtime/kill-switch.ts';
import type { OpenVolumeInput } from '../../agent-image/src/services/runtime/open-volume.ts';
import { runtimePaths } from '../../agent-image/src/services/runtime/runtime-paths.ts';
import { LiveSettings } from '../../agent-image/src/services/settings/settings-source.ts';

/** A maker of fresh data directories named after `prefix`, all removed after the calling file's tests. */
export function dataDirectories(prefix: string): () => Promise<string> {
  const directories: string[] = [];
  after(async () => {
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });
  return async () => {
    const directory = await mkdtemp(join(tmpdir(), prefix));
    directories.push(directory);
    return directory;
  };
}

/** The files of `directory` this process holds open (Linux: /proc/self/fd). */
export async function heldOpenUnder(directory: string): Promise<string[]> {
  const held: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
    if (target.startsWith(directory)) held.push(target);
  }
  return held;
}

/** The configuration of the client 'acme' with its one admin. */
export function acmeConfig(): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', admins: ['dana@acme.example'] });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

/** What an open of the volume under `dataDir` for `config` is given but its secrets and clock: no mailbox connects. */
export function volumeInputUnder(dataDir: string, config: ClientConfig): Omit<OpenVolumeInput, 'source' | 'now'> {
  const paths = runtimePaths(dataDir);
  return {
    config,
    paths,
    settings: new LiveSettings(config),
    kill: new KillSwitch(paths.killFlag),
    metrics: new AgentMetrics(new Registry(), { client: config.client, version: '1.0.0' }),
    logger: createSilentLogger(),
    connectors: async () => ({ missing: ['gmail'] }),
    onConnected: () => undefined,
    anchorIntervalMs: 60_000,
  };
}
