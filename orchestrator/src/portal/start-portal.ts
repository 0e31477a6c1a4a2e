import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from '@agent-fleet/kernel/logger';
import { loadOrCreateFleetCa, type FleetCa } from '../adapters/fleet-ca/fleet-ca.ts';
import type { PortalConfig } from '../config.ts';
import type { Clock } from '../ports/clock.ts';
import type { PortalStore } from '../ports/portal-store.ts';
import { ApprovalLinks } from './approval-links.ts';
import { selfServedOrigin } from '../domain/portal-origin.ts';
import type { ClientGateway } from './client-gateway.ts';
import type { SettingsGateway } from './settings-gateway.ts';
import { unavailableSettings } from './settings/unavailable-settings.ts';
import { loadPortalKeys } from './crypto/portal-keys.ts';
import { createPortalApp } from './http/portal-app.ts';
import { createPortalServer } from './http/portal-server.ts';
import { Enrolment } from './identity/enrolment.ts';
import { Passkeys } from './identity/passkeys.ts';
import { SessionManager } from './identity/sessions.ts';
import { TotpFactor } from './identity/totp.ts';
import type { PortalContext } from './portal-context.ts';

export interface PortalDependencies {
  config: PortalConfig;
  store: PortalStore;
  gateway: ClientGateway;
  /** The clients' settings and dashboards; without it the settings pages answer "cannot be reached". */
  settings?: SettingsGateway;
  clock: Clock;
  logger: Logger;
  /** The fleet CA (the orchestrator's); when absent the portal opens it from its data directory itself. */
  ca?: FleetCa;
  /** Counts a refused sign-in, one-tap link or enrolment code (fleet_api_auth_failures_total{surface="portal"}). */
  onAuthRefused?: () => void;
}

export interface PortalHandle {
  /** The origin browsers use, e.g. https://portal.example.com or https://localhost:7443. */
  url: string;
  /** Where the listener is bound (the port is the real one when PORTAL_PORT is 0). */
  address: { host: string; port: number };
  /** The fleet CA certificate (PEM) when the portal serves TLS itself; null behind a proxy. */
  caCertificatePem: string | null;
  /** A single-use 24 h enrolment link for an admin in the client's config (deliver it to that admin only). */
  inviteAdmin(clientId: string, email: string): Promise<{ url: string; expiresAt: Date }>;
  /** The one-tap link for an approval email. */
  approvalLink(clientId: string, approvalId: string, approvalExpiresAt?: Date): string;
  /** Ends sessions and credentials of admins no longer in their client's config; returns how many admins. */
  endRemovedAdmins(): Promise<number>;
  close(): Promise<void>;
}

const HOUSEKEEPING_MS = 10 * 60_000;
const RENEW_BEFORE_MS = 7 * 86_400_000;

/**
 * Starts the client portal on its own listener: TLS 1.3 with a certificate from the fleet CA (made at
 * first start, key sealed at rest under the portal key file), or plain HTTP when PORTAL_PUBLIC_URL says a
 * TLS-terminating proxy is in front. The caller owns the store and the gateway.
 */
export async function startPortal(deps: PortalDependencies): Promise<PortalHandle> {
  const { config, store, gateway, clock } = deps;
  const logger = deps.logger.child({ component: 'portal' });
  const keys = await loadPortalKeys(config.dataDir);
  let publicUrl = config.publicUrl ?? '';
  const currentUrl = () => publicUrl;
  const sessions = new SessionManager({
    store: store.sessions,
    clock,
    csrfKey: keys.csrf,
    policy: { idleMs: config.sessionIdleMs, absoluteMs: config.sessionAbsoluteMs },
  });
  const context: PortalContext = {
    gateway,
    settings: deps.settings ?? unavailableSettings,
    store,
    sessions,
    passkeys: new Passkeys({
      store,
      clock,
      sealingKey: keys.credentials,
      relyingParty: () => ({ id: new URL(publicUrl).hostname, origin: publicUrl, name: 'Client portal' }),
      onRefused: deps.onAuthRefused,
    }),
    totp: new TotpFactor({
      store,
      clock,
      sealingKey: keys.credentials,
      lockout: { maxFailures: config.maxLoginFailures, windowMs: config.lockoutMs },
      onRefused: deps.onAuthRefused,
    }),
    enrolment: new Enrolment({ store, gateway, clock, ttlMs: config.enrolmentTtlMs, onRefused: deps.onAuthRefused }),
    links: new ApprovalLinks({
      key: keys.links,
      nonces: store.links,
      clock,
      ttlMs: config.linkTtlMs,
      publicUrl: currentUrl,
    }),
    keys,
    clock,
    logger,
    onAuthRefused: deps.onAuthRefused,
    publicUrl: currentUrl,
  };
  const app = createPortalApp(context, { behindProxy: config.tls === 'proxy' });

  let server: http.Server;
  let caCertificatePem: string | null = null;
  let renewTimer: NodeJS.Timeout | undefined;
  if (config.tls === 'self') {
    const ca = deps.ca ?? (await loadOrCreateFleetCa(path.join(config.dataDir, 'fleet-ca'), keys.caKey, clock.now()));
    caCertificatePem = ca.certificatePem;
    let certificate = await ca.issueServerCertificate(config.tlsNames, clock.now());
    const tlsServer = createPortalServer(app, {
      key: certificate.privateKeyPem,
      cert: certificate.certificateChainPem,
      minVersion: 'TLSv1.3',
    });
    renewTimer = setInterval(() => {
      if (certificate.notAfter.getTime() - clock.now().getTime() > RENEW_BEFORE_MS) return;
      ca.issueServerCertificate(config.tlsNames, clock.now()).then(
        (renewed) => {
          certificate = renewed;
          tlsServer.setSecureContext({
            key: renewed.privateKeyPem,
            cert: renewed.certificateChainPem,
            minVersion: 'TLSv1.3',
          });
          logger.info('portal certificate renewed', { notAfter: renewed.notAfter.toISOString() });
        },
        (error: unknown) => logger.error('portal certificate renewal failed', { error }),
      );
    }, 12 * 3_600_000);
    renewTimer.unref();
    server = tlsServer;
  } else {
    server = createPortalServer(app);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  if (!config.publicUrl) publicUrl = selfServedOrigin(config.tlsNames, port);

  async function endRemovedAdmins(): Promise<number> {
    let ended = 0;
    const listed = new Map<string, string[]>();
    for (const admin of await store.knownAdmins()) {
      if (!listed.has(admin.clientId)) listed.set(admin.clientId, await gateway.admins(admin.clientId));
      if (listed.get(admin.clientId)?.includes(admin.email)) continue;
      await store.forgetAdmin(admin);
      ended++;
    }
    return ended;
  }
  // Unfinished enrolments' credentials go too: they can never sign in, and one link could store any number.
  const keepHouse = () =>
    Promise.all([store.purgeExpired(clock.now()), endRemovedAdmins(), context.enrolment.sweepUnfinished()]).catch((error: unknown) =>
      logger.error('portal housekeeping failed', { error }),
    );
  void keepHouse();
  const housekeeping = setInterval(() => void keepHouse(), HOUSEKEEPING_MS);
  housekeeping.unref();
  logger.info('client portal listening', { url: publicUrl, tls: config.tls, address: config.host, port });

  return {
    url: publicUrl,
    address: { host: config.host, port },
    caCertificatePem,
    async inviteAdmin(clientId, email) {
      const issued = await context.enrolment.issue(clientId, email);
      logger.info('portal enrolment link issued', {
        client: clientId,
        expiresAt: issued.expiresAt.toISOString(),
      });
      return { url: `${publicUrl}/enrol/${issued.token}`, expiresAt: issued.expiresAt };
    },
    approvalLink: (clientId, approvalId, approvalExpiresAt) =>
      context.links.linkFor(clientId, approvalId, approvalExpiresAt),
    endRemovedAdmins,
    async close() {
      clearInterval(housekeeping);
      if (renewTimer) clearInterval(renewTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
