import { FleetError } from './fleet-error.ts';
import type { ClientConfig } from './client-config.ts';
import { MAX_CONFIG_BYTES, renderAgentConfigJson } from './client-config-document.ts';
import { renderClientConfigYaml } from './client-config-yaml.ts';
import { MAX_SETTINGS_BYTES, plainSettings, settingsDocumentBytes } from './settings-version.ts';

/**
 * Refuses a settings document that is over its limit in any form it is kept in: the agent counts its
 * canonical JSON, and the registry's YAML copy and the config file placed for the agent at its next start
 * are read back under MAX_CONFIG_BYTES. A document under 1 MiB grows past these once its defaults are
 * filled in and it is written out again: taken live, such a version was refused as the agent's config
 * file at its next start (the agent did not start) and as the registry's copy by everything that reads it.
 * The orchestrator checks before it asks the agent, the agent again at its control API (its own boundary).
 */
export function assertSettingsStorable(document: ClientConfig): void {
  const plain = plainSettings(document);
  const forms = [
    { what: 'as JSON, defaults filled in', bytes: () => settingsDocumentBytes(plain), limit: MAX_SETTINGS_BYTES },
    { what: 'as the YAML the fleet keeps', bytes: () => Buffer.byteLength(renderClientConfigYaml(plain)), limit: MAX_CONFIG_BYTES },
    { what: "as the agent's config file", bytes: () => Buffer.byteLength(renderAgentConfigJson(plain) ?? ''), limit: MAX_CONFIG_BYTES },
  ];
  for (const form of forms) {
    const bytes = form.bytes();
    if (bytes > form.limit) {
      throw new FleetError('invalid_input', `settings document: ${bytes} bytes ${form.what}, larger than ${form.limit} bytes (1 MiB); nothing was changed`);
    }
  }
}
