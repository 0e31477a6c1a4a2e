// The whole portal app (createPortalApp) over the identity fixture's real store, sessions and factors, on
// loopback HTTP with the portal's own listener (createPortalServer), with browsers that keep their own
// cookies: for the identity routes end to end, in process.
import type { AddressInfo } from 'node:net';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { ClientGateway } from '../../../orchestrator/src/portal/client-gateway.ts';
import { loadPortalKeys } from '../../../orchestrator/src/portal/crypto/portal-keys.ts';
import { createPortalApp } from '../../../orchestrator/src/portal/http/portal-app.ts';
import { createPortalServer } from '../../../orchestrator/src/portal/http/portal-server.ts';
import type { PortalContext } from '../../../orchestrator/src/portal/portal-context.ts';
import { unavailableSettings } from '../../../orchestrator/src/portal/settings/unavailable-settings.ts';
import type { IdentityFixture } from './identity-fixture.ts';

export interface AdminEvent {
  clientId: string;
  email: string;
  event: string;
}

export interface PortalPage {
  status: number;
  text: string;
  location: string | null;
}

/** A browser with its own cookie jar. */
export interface TestBrowser {
  get(path: string): Promise<PortalPage>;
  /** POSTs a form with this browser's CSRF token (read from the last page it loaded). */
  post(path: string, fields?: Record<string, string>): Promise<PortalPage>;
  /** POSTs JSON as the portal's WebAuthn script does (CSRF token in a header). */
  postJson(path: string, body: unknown): Promise<PortalPage>;
  cookie(name: string): string | undefined;
}

export interface IdentityApp {
  url: string;
  events: AdminEvent[];
  /** Refusals the routes counted themselves (the context's onAuthRefused). */
  readonly authRefusals: number;
  browser(): TestBrowser;
  close(): Promise<void>;
}

export async function startIdentityApp(f: IdentityFixture, dataDir: string): Promise<IdentityApp> {
  const events: AdminEvent[] = [];
  let authRefusals = 0;
  const gateway = {
    admins: async (clientId: string) => f.admins.get(clientId) ?? [],
    recordAdminEvent: async (clientId: string, email: string, event: string) => {
      events.push({ clientId, email, event });
    },
    status: async () => null,
    listApprovals: async () => [],
  } as unknown as ClientGateway;
  let url = '';
  const context = {
    gateway,
    settings: unavailableSettings,
    store: f.store,
    sessions: f.sessions,
    passkeys: f.passkeys,
    totp: f.totp,
    enrolment: f.enrolment,
    links: { check: async () => ({ ok: false }) },
    keys: await loadPortalKeys(dataDir),
    clock: { now: () => f.now() },
    logger: createSilentLogger(),
    onAuthRefused: () => {
      authRefusals += 1;
    },
    publicUrl: () => url,
  } as unknown as PortalContext;
  const server = createPortalServer(createPortalApp(context, { behindProxy: false }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const browser = (): TestBrowser => {
    const jar = new Map<string, string>();
    let csrf = '';
    const send = async (path: string, init: RequestInit): Promise<PortalPage> => {
      const response = await fetch(`${url}${path}`, {
        ...init,
        redirect: 'manual',
        headers: {
          ...(init.headers as Record<string, string> | undefined),
          origin: url,
          cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
        },
      });
      for (const line of response.headers.getSetCookie()) {
        const [pair = ''] = line.split(';');
        const index = pair.indexOf('=');
        const name = pair.slice(0, index);
        const value = pair.slice(index + 1);
        if (/Max-Age=0/.test(line) || value === '') jar.delete(name);
        else jar.set(name, value);
      }
      const text = await response.text();
      const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
      if (token) csrf = token;
      return { status: response.status, text, location: response.headers.get('location') };
    };
    return {
      get: (path) => send(path, { method: 'GET' }),
      post: (path, fields = {}) =>
        send(path, {
          method: 'POST',
          body: new URLSearchParams({ _csrf: csrf, ...fields }),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      postJson: (path, body) =>
        send(path, {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        }),
      cookie: (name) => jar.get(name),
    };
  };
  return {
    get url() {
      return url;
    },
    events,
    get authRefusals() {
      return authRefusals;
    },
    browser,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
