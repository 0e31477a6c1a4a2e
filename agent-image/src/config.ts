import * as z from 'zod';
import { isAcceptableCertsUrl } from './adapters/gmail/google-signing-keys.ts';

/** Process settings of the agent (not the client's policy config, which lives in the client's volume). */
const absolutePath = z.string().regex(/^\//, 'must be an absolute path');

/**
 * A whole number written in decimal. `z.coerce.number()` read "0x1F90" as 8080, "1e1" as 10 and an empty
 * or blank value as 0, so a setting meant as one thing ran as another; each of those is refused by name.
 */
const decimalInteger = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, 'must be a whole number in decimal, e.g. 60').transform(Number).pipe(z.number().int().min(min).max(max));

/**
 * An http(s) URL without `user:pass@`: any other scheme (file:, ftp:) is no API the agent speaks, and a
 * credential in the environment ends up in process listings and logs (secrets come from Vault).
 */
const serviceUrl = z
  .url()
  .refine((value) => /^https?:\/\//i.test(value), 'must be an http(s):// URL')
  .refine((value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''), 'must not contain a user name or password (user:pass@)');

const agentEnvSchema = z.object({
  /** Path of the client's config YAML. Default /data/config.yaml (in the client's own volume). */
  AGENT_CONFIG_PATH: absolutePath.default('/data/config.yaml'),
  /** Directory of the client's volume: audit log, outbox, state. Default /data. */
  AGENT_DATA_DIR: absolutePath.default('/data'),
  /** Port of the control API (/healthz, /readyz, /v1/...; HTTPS, TLS 1.3 only). Default 8080. */
  AGENT_CONTROL_PORT: decimalInteger(1, 65535).default(8080),
  /** Port of the Prometheus exporter (plain HTTP: metrics only, no secrets, no control). Default 9464. */
  AGENT_METRICS_PORT: decimalInteger(1, 65535).default(9464),
  /** Address both servers bind to. Default 0.0.0.0 (inside the container; published on 127.0.0.1 only). */
  AGENT_BIND_HOST: z.string().min(1).default('0.0.0.0'),
  /** Version reported by fleet_agent_info. */
  AGENT_VERSION: z.string().min(1).default('0.0.0'),
  /** Log level: error, warn, info or debug. Default info. */
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  /** Vault API address (HashiCorp Vault, OpenBao or the orchestrator's embedded store). Optional: an introduction may carry it. */
  VAULT_ADDR: serviceUrl.optional(),
  /**
   * PEM file of the CA Vault's TLS certificate chains to: the fleet CA (embedded store; placed in the
   * volume by the orchestrator) or a real Vault's own. Default: Node's root store.
   */
  VAULT_CACERT: absolutePath.optional(),
  /**
   * Directory holding the agent's TLS identity as tls.crt, tls.key and ca.crt (Kubernetes: rendered from
   * Vault into the pod's in-memory /vault/secrets by Vault Agent). Unset (Docker): the agent redeems the
   * single-use handover the orchestrator placed in AGENT_DATA_DIR (tls.wrap) at Vault.
   */
  AGENT_TLS_DIR: absolutePath.optional(),
  /**
   * Read-only directory of files the orchestrator places for the agent (the kill switch's KILLED flag).
   * Set on Kubernetes, where they arrive as a ConfigMap mount; unset on Docker, where they land in AGENT_DATA_DIR.
   */
  AGENT_PLACED_FILES_DIR: absolutePath.optional(),
  /**
   * File Vault Agent writes the agent's Vault token to (Kubernetes). When set, the agent introduces itself
   * from it at start instead of waiting for a wrapped token. Default: none (wrapped-token introduction).
   */
  AGENT_VAULT_SINK_FILE: absolutePath.optional(),
  /** Seconds between mailbox syncs. Default 60. */
  AGENT_SYNC_INTERVAL_SECONDS: decimalInteger(5, 3600).default(60),
  /** Seconds between approval-expiry sweeps. Default 60. */
  AGENT_SWEEP_INTERVAL_SECONDS: decimalInteger(5, 3600).default(60),
  /** Messages processed at once. Default 4. */
  AGENT_CONCURRENCY: decimalInteger(1, 32).default(4),
  /** Gmail API root (with trailing slash). Default Google's; tests point it at the emulator. */
  AGENT_GMAIL_ROOT_URL: serviceUrl.optional(),
  /** Google OAuth token endpoint. Default Google's. */
  AGENT_GMAIL_TOKEN_URL: serviceUrl.optional(),
  /** Google's signing keys for Pub/Sub push tokens. Default Google's; tests point it at the emulator (loopback or a private address only). */
  AGENT_GOOGLE_CERTS_URL: serviceUrl.refine(isAcceptableCertsUrl, "must be Google's, or an emulator's on loopback or a private address").optional(),
  /** Microsoft Graph origin. Default https://graph.microsoft.com. */
  AGENT_GRAPH_BASE_URL: serviceUrl.optional(),
  /** Microsoft identity token endpoint. Default https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token. */
  AGENT_GRAPH_TOKEN_URL: serviceUrl.optional(),
  /** Anthropic API base URL. Default https://api.anthropic.com. */
  AGENT_ANTHROPIC_BASE_URL: serviceUrl.optional(),
  /** Bullhorn OAuth server root. Default: the client's data center's (auth.bullhornstaffing.com for east). */
  AGENT_BULLHORN_AUTH_URL: serviceUrl.optional(),
  /** Bullhorn REST login URL (…/rest-services/login). Default: the client's data center's. */
  AGENT_BULLHORN_LOGIN_URL: serviceUrl.optional(),
  /** The client portal's origin (https), set by the orchestrator: the admins' mail links approvals there. Default: none. */
  AGENT_PORTAL_URL: serviceUrl.refine((value) => value.startsWith('https://'), 'must be an https:// URL').optional(),
});

export type AgentEnv = Readonly<z.output<typeof agentEnvSchema>>;

export function loadAgentEnv(env: NodeJS.ProcessEnv = process.env): AgentEnv {
  const result = agentEnvSchema.safeParse(env);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid agent environment:\n  ${issues.join('\n  ')}`);
  }
  return Object.freeze(result.data);
}
