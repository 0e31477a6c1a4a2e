// The portal's settings routes in front of a recording settings gateway: what each test posts is kept, and
// the gateway a test sees can be replaced between tests without restarting the harness.
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { settingsRoutes } from '../../orchestrator/src/portal/http/routes-settings.ts';
import type { PortalGrant, PortalSettingsChange, PortalSettingsHead, SettingsGateway } from '../../orchestrator/src/portal/settings-gateway.ts';
import { startRouteHarness, type RouteHarness } from '../unit/portal/portal-route-harness.ts';

const GRANT: PortalGrant = { provider: 'gmail', state: 'ok', missing: [], extra: [], narrowRequested: false, command: '' };

/** A settings gateway at version 4 of `config` that records every change posted to it and accepts it. */
export class RecordingSettings {
  head: PortalSettingsHead;
  readonly changes: PortalSettingsChange[] = [];
  constructor(config: ClientConfig) {
    this.head = { version: 4, at: '2026-03-09T00:00:00.000Z', author: 'dana@acme.example (client admin)', reason: 'r', config, grant: { ...GRANT } };
  }
  current = () => Promise.resolve(this.head);
  graduation = () => Promise.resolve([]);
  change = (_clientId: string, change: PortalSettingsChange) => {
    this.changes.push(change);
    return Promise.resolve({ version: this.head.version + 1, changed: true, grant: { ...GRANT } });
  };
}

/** The settings routes with `settings()` (read at each call) as their gateway, and no agent status. */
export function startSettingsHarness(settings: () => RecordingSettings): Promise<RouteHarness> {
  return startRouteHarness(settingsRoutes, {
    settings: new Proxy({} as SettingsGateway, { get: (_target, name) => (settings() as unknown as Record<string | symbol, unknown>)[name] }),
    gateway: { status: () => Promise.resolve(null) } as never,
  });
}

const ENTITIES: Record<string, string> = { '&quot;': '"', '&#39;': "'", '&lt;': '<', '&gt;': '>', '&amp;': '&' };

/** The value of a hidden field of the page, unescaped. */
export function hiddenValue(page: string, name: string): string | undefined {
  const found = [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].find((match) => match[1] === name);
  return found?.[2]?.replace(/&(quot|#39|lt|gt|amp);/g, (entity) => ENTITIES[entity] ?? entity);
}
