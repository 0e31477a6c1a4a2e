import path from 'node:path';
import * as z from 'zod';
import { envNumber } from './config-env-number.ts';
import { isHostNameOrIpAddress, listenHost } from './config-host.ts';
import { badEntriesNotice } from './config-list-entries.ts';
import { hasNoUserInfo, NO_USER_INFO } from './config-url.ts';
import { portalOrigin } from './domain/portal-origin.ts';

// The client portal's part of the orchestrator's environment schema, kept beside config.ts (which merges
// it in and alone reads the environment) like config-egress.ts.

export const portalEnvShape = {
  /** Address of the client portal's listener. Default 127.0.0.1. */
  PORTAL_HOST: listenHost.default('127.0.0.1'),
  /** Port of the client portal's listener. Default 7443. */
  PORTAL_PORT: envNumber(z.number().int().min(0).max(65535)).default(7443),
  /**
   * The portal's address as browsers reach it, when a TLS-terminating proxy is in front (https only):
   * the portal then serves plain HTTP to the proxy. Default: none, i.e. the portal serves TLS 1.3 itself
   * with a certificate from the fleet CA, at https://<first of PORTAL_TLS_NAMES>:<PORTAL_PORT>.
   */
  PORTAL_PUBLIC_URL: z
    .url()
    .refine((value) => value.startsWith('https://'), 'must be an https:// URL (the portal\'s cookies are Secure)')
    .refine(hasNoUserInfo, NO_USER_INFO)
    // Only the origin is used (links, cookies, the origin check): a path was dropped without a word, and
    // every link in the agents' mail went to the proxy's root instead of /portal.
    .refine(isOriginOnly, 'must be an origin such as https://portal.example.com (no path, query or #): the portal is served at the root of its address')
    .optional(),
  /** Names (DNS or IP) on the portal's certificate, comma-separated; the first is its host name. Default localhost. */
  PORTAL_TLS_NAMES: z
    .string()
    .default('localhost')
    .transform((value) => value.split(',').map((name) => name.trim()).filter((name) => name !== ''))
    .superRefine((names, context) => {
      const issue = tlsNamesIssue(names);
      if (issue !== undefined) context.addIssue({ code: 'custom', message: issue });
    }),
  /** Minutes without a request after which a portal session ends. Default 30. */
  PORTAL_SESSION_IDLE_MINUTES: envNumber(z.number().int().min(1).max(24 * 60)).default(30),
  /** Hours after sign-in after which a portal session ends whatever its use. Default 12. */
  PORTAL_SESSION_MAX_HOURS: envNumber(z.number().int().min(1).max(24 * 7)).default(12),
  /**
   * Failed one-time codes within the lockout period before codes are refused: per address and device (a
   * browser that signed in as the address before counts alone; all others share one count). Default 5.
   * Four lockout periods' worth of failures in a day (20 by default) refuse that count's codes for the day.
   */
  PORTAL_LOGIN_MAX_FAILURES: envNumber(z.number().int().min(1).max(100)).default(5),
  /** Minutes for which a device's codes for an address are refused after too many failures. Default 15. */
  PORTAL_LOCKOUT_MINUTES: envNumber(z.number().int().min(1).max(24 * 60)).default(15),
  /** Hours a one-tap approval link in an email stays valid (never past the approval's own expiry). Default 24. */
  PORTAL_LINK_TTL_HOURS: envNumber(z.number().int().min(1).max(24 * 7)).default(24),
} as const;

/** True when the URL is an origin alone: nothing after the host and port but an optional `/`. */
function isOriginOnly(value: string): boolean {
  if (!URL.canParse(value)) return true; // not a URL at all: z.url() reports that
  const url = new URL(value);
  return url.pathname === '/' && url.search === '' && url.hash === '' && !/[?#]/.test(value);
}

/**
 * Why PORTAL_TLS_NAMES cannot name the portal's certificate, or undefined. Each becomes a name on it and the
 * first the host of every portal link the agents mail: `portal.example.com:7443` (a port), `..`, `-` or
 * `999.1.1.1` passed the old character check and made links such as https://[portal.example.com:7443]:7443.
 */
function tlsNamesIssue(names: readonly string[]): string | undefined {
  if (names.length === 0) return 'must name at least one host name or IP address';
  const bad = names.filter((name) => !isHostNameOrIpAddress(name));
  if (bad.length === 0) return undefined;
  return `must be host names (portal.example.com) or IP addresses (192.0.2.10, ::1), comma-separated, without a port, scheme or wildcard; ${badEntriesNotice(bad)}`;
}

type PortalEnv = z.output<z.ZodObject<typeof portalEnvShape>>;

/** The client portal's settings (orchestrator/src/portal/README.md). */
export interface PortalConfig {
  host: string;
  port: number;
  /** Set when a TLS-terminating proxy is in front: the origin browsers use. Otherwise derived at listen. */
  publicUrl: string | undefined;
  /** 'self': TLS 1.3 with a fleet-CA certificate; 'proxy': plain HTTP behind a TLS-terminating proxy. */
  tls: 'self' | 'proxy';
  tlsNames: string[];
  /** Key file and fleet CA: <AGENT_FLEET_HOME>/portal. */
  dataDir: string;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  maxLoginFailures: number;
  lockoutMs: number;
  linkTtlMs: number;
  /** Enrolment links are valid for 24 h. */
  enrolmentTtlMs: number;
}

export function portalConfigOf(env: PortalEnv & { AGENT_FLEET_HOME: string }): PortalConfig {
  return {
    host: env.PORTAL_HOST,
    port: env.PORTAL_PORT,
    publicUrl: env.PORTAL_PUBLIC_URL === undefined ? undefined : new URL(env.PORTAL_PUBLIC_URL).origin,
    tls: env.PORTAL_PUBLIC_URL === undefined ? 'self' : 'proxy',
    tlsNames: env.PORTAL_TLS_NAMES,
    dataDir: path.join(env.AGENT_FLEET_HOME, 'portal'),
    sessionIdleMs: env.PORTAL_SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: env.PORTAL_SESSION_MAX_HOURS * 3_600_000,
    maxLoginFailures: env.PORTAL_LOGIN_MAX_FAILURES,
    lockoutMs: env.PORTAL_LOCKOUT_MINUTES * 60_000,
    linkTtlMs: env.PORTAL_LINK_TTL_HOURS * 3_600_000,
    enrolmentTtlMs: 24 * 3_600_000,
  };
}

/** The portal origin agents link to in their mail (AGENT_PORTAL_URL); unknown with PORTAL_PORT=0. */
export function agentPortalUrlOf(env: PortalEnv): string | undefined {
  return portalOrigin({ publicUrl: env.PORTAL_PUBLIC_URL, tlsNames: env.PORTAL_TLS_NAMES, port: env.PORTAL_PORT });
}
