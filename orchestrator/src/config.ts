import os from 'node:os';
import path from 'node:path';
import { Cron } from 'croner';
import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { envNumber } from './config-env-number.ts';
import { doctorConfigOf, doctorEnvShape, type DoctorConfig } from './config-doctor.ts';
import { misspeltSettingIssues } from './config-env-names.ts';
import { listenHost } from './config-host.ts';
import { egressConfigOf, egressEnvShape, egressSettingsIssues, type EgressConfig } from './config-egress.ts';
import { agentPortalUrlOf, portalConfigOf, portalEnvShape, type PortalConfig } from './config-portal.ts';
import { socketPathIssue } from './config-socket-path.ts';
import { hasNoUserInfo, NO_USER_INFO } from './config-url.ts';
import { parseIpv4Cidr, type Ipv4Cidr } from './domain/ipv4-cidr.ts';

const MIB = 1024 * 1024;

const dnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a namespace name (DNS-1123 label)');

/** Environment helm and kubectl need from the orchestrator's own, and nothing else (no secrets leak in). */
const KUBE_COMMAND_ENV = ['PATH', 'HOME', 'KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT'] as const;

const isHttpUrl = (value: string): boolean => /^https?:\/\//i.test(value);

/**
 * Address space client networks may be cut from: RFC 1918 private ranges, and RFC 6598 shared space
 * (100.64.0.0/10), which is not routed on the internet either and is the usual fallback where a site's
 * RFC 1918 space is taken (mind a Tailscale tailnet, which lives there). A pool anywhere else would put
 * agents' bridges over public hosts (their traffic to those addresses stays on the host), over loopback
 * (127/8) or over everything (0.0.0.0/0).
 */
const SUBNET_POOL_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'] as const;

const within = (inner: Ipv4Cidr, outer: Ipv4Cidr): boolean =>
  inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + 2 ** (32 - inner.prefix) <= outer.base + 2 ** (32 - outer.prefix);

function subnetPoolIssue(value: string): string | undefined {
  let pool: Ipv4Cidr;
  try {
    pool = parseIpv4Cidr(value);
  } catch {
    return 'must be an IPv4 CIDR such as 10.213.0.0/16';
  }
  if (SUBNET_POOL_RANGES.some((range) => within(pool, parseIpv4Cidr(range)))) return undefined;
  return `must lie inside private address space (${SUBNET_POOL_RANGES.slice(0, 3).join(', ')}, or ${SUBNET_POOL_RANGES[3]} shared space), such as 10.213.0.0/16`;
}

/**
 * A file the service and the CLI both open: relative, it would be a different file for each place they
 * start from (as for AGENT_FLEET_HOME); and a Docker socket is a path, never a tcp:// address.
 */
const absoluteFile = z.string().min(1).refine((value) => path.isAbsolute(value), 'must be an absolute path such as /run/agent-fleet/file ("~" and relative paths are not expanded)');

/** The owner-only unix socket of the service's API, in its home: the CLI and the service both derive it from here. */
const apiSocketPathOf = (homeDir: string): string => path.join(homeDir, 'orchestrator.sock');

/** Checked here so that a bad pattern is one line at start-up, not a scheduler throwing once the service runs. */
function isCronPatternOrEmpty(value: string): boolean {
  if (value.trim() === '') return true;
  try {
    // Without a function to run, croner only parses the pattern: nothing is scheduled.
    new Cron(value.trim(), { timezone: 'UTC' });
    return true;
  } catch {
    return false;
  }
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The spec rotates credentials monthly: no more than 31 days may pass without a rotation. */
const MAX_ROTATION_WAIT_MS = 31 * DAY_MS;
const rotationIssues = new Map<string, string | undefined>();

/**
 * Why a valid rotation pattern does not rotate monthly, or undefined. A pattern can parse and still never
 * fire (`0 3 31 2 *`), fire once a year or once in four (`0 3 1 1 *`, `0 3 29 2 *`), fire on January's
 * days only (`0 3 * 1 *`, a slip for `0 3 1 * *`) or every second (`* * * * * *`): each would leave
 * credentials unrotated for months, or revoke and re-issue every client's credentials without pause. The
 * wait for the next rotation is measured from each day of a year, and the gap after it (bounded: 732
 * look-ups, about 20 ms, remembered per pattern).
 */
function rotationPatternIssue(pattern: string): string | undefined {
  if (pattern === '' || !isCronPatternOrEmpty(pattern)) return undefined;
  if (rotationIssues.has(pattern)) return rotationIssues.get(pattern);
  const cron = new Cron(pattern, { timezone: 'UTC' });
  const from = Date.parse('2026-01-01T00:00:00Z');
  let issue: string | undefined;
  for (let day = 0; day <= 366 && issue === undefined; day++) {
    const at = new Date(from + day * DAY_MS);
    const next = cron.nextRun(at);
    const wait = next === null ? Number.POSITIVE_INFINITY : next.getTime() - at.getTime();
    if (wait > MAX_ROTATION_WAIT_MS) {
      const days = Number.isFinite(wait) ? `${Math.floor(wait / DAY_MS)} days pass` : 'it never fires, so years pass';
      issue = `must rotate at least monthly (the rotation policy): after ${at.toISOString().slice(0, 10)} ${days} without a rotation; leave it empty to turn rotation off`;
    } else if (next !== null) {
      const after = cron.nextRun(next);
      if (after !== null && after.getTime() - next.getTime() < HOUR_MS) {
        issue = `must rotate at most hourly: it fires at ${next.toISOString()} and again at ${after.toISOString()}, revoking every client's credentials each time`;
      }
    }
  }
  if (rotationIssues.size >= 100) rotationIssues.clear();
  rotationIssues.set(pattern, issue);
  return issue;
}

/** An interval in seconds where 0 turns the loop off: anything else below a second would run it without pause. */
const loopIntervalSeconds = (defaultSeconds: number) =>
  envNumber(z.number().min(0).max(3600))
    .refine((seconds) => seconds === 0 || seconds >= 1, 'must be 0 (off) or at least 1 second: a shorter interval would run the loop without pause')
    .default(defaultSeconds);

const orchestratorEnvSchema = z
  .object({
    /** State directory, an absolute path: embedded registry, secret store, scrape targets, socket, logs. Default ~/.agent-fleet. */
    AGENT_FLEET_HOME: z
      .string()
      .min(1)
      // A relative home would be a different directory for each place a service or command starts from
      // (the service and the CLI would not find each other's socket, registry or keys); "~" is not expanded.
      .refine((value) => path.isAbsolute(value), 'must be an absolute path such as /var/lib/agent-fleet ("~" and relative paths are not expanded)')
      .default(path.join(os.homedir(), '.agent-fleet'))
      .superRefine((value, context) => {
        // The service's API socket lives in the home (loadConfig's api.socketPath).
        const issue = socketPathIssue(apiSocketPathOf(value), 'choose a shorter directory');
        if (issue !== undefined) context.addIssue({ code: 'custom', message: issue });
      }),
    /** PostgreSQL URL for the registry. Default: none, i.e. embedded PGlite under AGENT_FLEET_HOME. */
    DATABASE_URL: z
      .string()
      .url()
      .refine((value) => /^postgres(ql)?:\/\//i.test(value), 'must be a postgres:// or postgresql:// URL')
      .optional(),
    /** Address of the HTTP API and /metrics. Default 127.0.0.1. */
    ORCHESTRATOR_HOST: listenHost.default('127.0.0.1'),
    /** Port of the HTTP API and /metrics. Default 7400. */
    ORCHESTRATOR_PORT: envNumber(z.number().int().min(0).max(65535)).default(7400),
    /** SHA-256 (hex) of the admin bearer token for the TCP API; without it the TCP API serves only health and metrics. */
    ORCHESTRATOR_ADMIN_TOKEN_SHA256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (sha256 of the token)')
      .optional(),
    /** Where agents run: docker (one host) or kubernetes (a Helm release per client). Default docker. */
    FLEET_RUNTIME: z.enum(['docker', 'kubernetes'], { error: 'must be docker or kubernetes' }).default('docker'),
    /** Kubeconfig file for helm and kubectl, passed on in their environment (kubernetes). Default: none, i.e. the in-cluster service account. */
    KUBECONFIG: z.string().min(1).optional(),
    /** Kubeconfig context (kubernetes). Default: the kubeconfig's current context. */
    FLEET_KUBE_CONTEXT: z.string().min(1).optional(),
    /** helm binary, a path or a name looked up in PATH (kubernetes). Default helm. */
    FLEET_HELM_PATH: z.string().min(1).default('helm'),
    /** kubectl binary, a path or a name looked up in PATH (kubernetes). Default kubectl. */
    FLEET_KUBECTL_PATH: z.string().min(1).default('kubectl'),
    /** Directory of the fleet-agent chart (kubernetes). Default /app/charts/fleet-agent (the orchestrator image's). */
    FLEET_AGENT_CHART: z.string().min(1).default('/app/charts/fleet-agent'),
    /** Namespace the orchestrator runs in, allowed through each agent's NetworkPolicy (kubernetes). Default agent-fleet. */
    FLEET_ORCHESTRATOR_NAMESPACE: dnsLabel.default('agent-fleet'),
    /** Namespace Prometheus runs in, allowed to scrape agents (kubernetes). Default monitoring. */
    FLEET_MONITORING_NAMESPACE: dnsLabel.default('monitoring'),
    /** Namespace of an in-cluster Vault agents may reach on port 8200 (kubernetes). Default: none (Vault outside, on 443). */
    FLEET_VAULT_NAMESPACE: dnsLabel.optional(),
    /** Storage class of each client's volume claim (kubernetes). Default: the cluster's default class. */
    FLEET_AGENT_STORAGE_CLASS: z.string().min(1).optional(),
    /** Size of each client's volume claim, a Kubernetes quantity (kubernetes). Default 1Gi. */
    FLEET_AGENT_VOLUME_SIZE: z.string().regex(/^[1-9][0-9]*(Mi|Gi|Ti)$/, 'must be a size such as 512Mi or 1Gi').default('1Gi'),
    /** DNS domain of the cluster, for the agents' Service names (kubernetes). Default cluster.local. */
    FLEET_CLUSTER_DOMAIN: z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'must be a DNS domain such as cluster.local').default('cluster.local'),
    /** Docker Engine socket. Default /var/run/docker.sock. */
    DOCKER_SOCKET: absoluteFile.default('/var/run/docker.sock').superRefine((value, context) => {
      const issue = socketPathIssue(value, 'link the socket to a shorter path and name that');
      if (issue !== undefined) context.addIssue({ code: 'custom', message: issue });
    }),
    /** Agent image. Default agent-fleet/agent:<this version>. */
    AGENT_IMAGE: z.string().min(1).optional(),
    /** Pool that per-client subnets are cut from, inside private address space (SUBNET_POOL_RANGES). Default 10.213.0.0/16. */
    FLEET_SUBNET_POOL: z
      .string()
      .default('10.213.0.0/16')
      .superRefine((value, context) => {
        const issue = subnetPoolIssue(value);
        if (issue !== undefined) context.addIssue({ code: 'custom', message: issue });
      }),
    /** Prefix length of each client's subnet. Default 28 (14 addresses: 4096 clients in a /16). */
    FLEET_SUBNET_PREFIX: envNumber(z.number().int().min(16).max(29)).default(28),
    /** Agent memory limit in MiB (swap is disabled). Default 128. */
    AGENT_MEMORY_MIB: envNumber(z.number().int().min(32).max(16_384)).default(128),
    /** Agent CPU limit in cores. Default 0.5. */
    AGENT_CPUS: envNumber(z.number().min(0.05).max(64)).default(0.5),
    /** Agent process limit. Default 128. */
    AGENT_PIDS_LIMIT: envNumber(z.number().int().min(16).max(4096)).default(128),
    /** Size of the agent's noexec /tmp in MiB. Default 16. */
    AGENT_TMPFS_MIB: envNumber(z.number().int().min(1).max(1024)).default(16),
    /** OCI runtime for agents (runsc, sysbox-runc); default: the engine's. */
    AGENT_OCI_RUNTIME: z.string().min(1).optional(),
    /** Seconds to wait for a new agent's /healthz, and (at least 15) for its answer to the introduction. Default 30. */
    AGENT_HEALTH_TIMEOUT_SECONDS: envNumber(z.number().min(1).max(600)).default(30),
    /** Seconds the `fleet` CLI waits for the service to begin answering a request (a backup answers when done). Default 600. */
    FLEET_CLI_ANSWER_TIMEOUT_SECONDS: envNumber(z.number().min(1).max(86_400)).default(600),
    /** Seconds the `fleet` CLI waits through a pause in an answer's body (an export streams as long as bytes flow). Default 60. */
    FLEET_CLI_IDLE_TIMEOUT_SECONDS: envNumber(z.number().min(1).max(3_600)).default(60),
    /** Seconds between reconcile passes in the service; 0 turns the loop off. Default 15. */
    RECONCILE_INTERVAL_SECONDS: loopIntervalSeconds(15),
    /** HashiCorp Vault / OpenBao address; unset means the embedded Vault-API store (the default). */
    VAULT_ADDR: z.string().url().refine(isHttpUrl, 'must be an http(s):// URL').refine(hasNoUserInfo, NO_USER_INFO).optional(),
    /** File holding the orchestrator's Vault token (with VAULT_ADDR). A file, never an env var. */
    VAULT_TOKEN_FILE: absoluteFile.optional(),
    /** Vault address as agent containers reach it (with VAULT_ADDR). Default: VAULT_ADDR. */
    VAULT_AGENT_ADDR: z.string().url().refine(isHttpUrl, 'must be an http(s):// URL').refine(hasNoUserInfo, NO_USER_INFO).optional(),
    /** PEM file of the CA a real Vault's TLS certificate chains to (with VAULT_ADDR); agents get it too. Default: Node's root store. */
    VAULT_CACERT: absoluteFile.optional(),
    /** Port of the embedded store, on 127.0.0.1 and on each client network's gateway. Default 7401. */
    EMBEDDED_VAULT_PORT: envNumber(z.number().int().min(0).max(65535)).default(7401),
    /** Seconds to wait for an introduced agent to become ready. Default 30. */
    AGENT_READY_TIMEOUT_SECONDS: envNumber(z.number().min(1).max(600)).default(30),
    /** Cron (UTC) for rotating every client's credentials, at least monthly and at most hourly; empty turns it off. Default monthly. */
    ROTATION_SCHEDULE: z
      .string()
      .default('0 3 1 * *')
      .refine(isCronPatternOrEmpty, 'must be a cron pattern such as "0 3 1 * *" (minute hour day month weekday), or empty to turn rotation off')
      .superRefine((value, context) => {
        const issue = rotationPatternIssue(value.trim());
        if (issue !== undefined) context.addIssue({ code: 'custom', message: issue });
      }),
    /** Days a deprovisioned client's data is kept before it is deleted for good. Default 90. */
    RETENTION_DAYS: envNumber(z.number().int().min(1).max(3650)).default(90),
    /** Seconds between audit chain-head checkpoints pulled from each agent. Default 60. */
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: loopIntervalSeconds(60),
    ...portalEnvShape,
    /** Log level. Default info. */
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    ...egressEnvShape,
    ...doctorEnvShape,
  })
  .superRefine((env, context) => {
    for (const issue of egressSettingsIssues(env)) context.addIssue({ code: 'custom', ...issue });
    if (env.VAULT_ADDR && !env.VAULT_TOKEN_FILE) {
      context.addIssue({ code: 'custom', path: ['VAULT_TOKEN_FILE'], message: 'is required with VAULT_ADDR' });
    }
    if (!env.VAULT_ADDR && env.VAULT_TOKEN_FILE) {
      // A token file says a real Vault is meant: without its address the embedded store would be used instead, without a word.
      context.addIssue({ code: 'custom', path: ['VAULT_ADDR'], message: 'is required with VAULT_TOKEN_FILE (without it the embedded store is used and the token file ignored)' });
    }
    if (env.FLEET_RUNTIME === 'kubernetes' && !env.VAULT_ADDR) {
      // The embedded store listens on loopback and Docker gateways only: pods in the cluster cannot reach it.
      context.addIssue({ code: 'custom', path: ['VAULT_ADDR'], message: 'is required with FLEET_RUNTIME=kubernetes (agents in the cluster cannot reach the embedded store)' });
    }
    // Each listener needs a port of its own (the embedded store listens on 127.0.0.1 as well as on the
    // gateways): two on one port pass here and then fail at start with EADDRINUSE. 0, any free port, never collides.
    const listeners: Array<[string, number]> = [['ORCHESTRATOR_PORT', env.ORCHESTRATOR_PORT], ['PORTAL_PORT', env.PORTAL_PORT]];
    if (!env.VAULT_ADDR) listeners.push(['EMBEDDED_VAULT_PORT', env.EMBEDDED_VAULT_PORT]);
    listeners.forEach(([name, port], index) => {
      const taken = listeners.slice(0, index).find(([, other]) => other === port && port !== 0);
      if (taken !== undefined) {
        context.addIssue({ code: 'custom', path: [name], message: `must differ from ${taken[0]} (both are ${port}): each listener of the orchestrator needs a port of its own` });
      }
    });
    // A pool that is not a CIDR has its own issue already (field refinements do not stop this one running).
    if (subnetPoolIssue(env.FLEET_SUBNET_POOL) === undefined && env.FLEET_SUBNET_PREFIX < parseIpv4Cidr(env.FLEET_SUBNET_POOL).prefix) {
      context.addIssue({ code: 'custom', path: ['FLEET_SUBNET_PREFIX'], message: 'must be at least the pool prefix' });
    }
  });

export interface KubernetesRuntimeConfig {
  context: string | undefined;
  helmPath: string;
  kubectlPath: string;
  chartPath: string;
  orchestratorNamespace: string;
  monitoringNamespace: string;
  vaultNamespace: string | undefined;
  storageClassName: string | undefined;
  volumeSize: string;
  clusterDomain: string;
  /** The whole environment helm and kubectl run with (PATH, HOME, KUBECONFIG, in-cluster API address). */
  commandEnv: Record<string, string>;
}

export interface OrchestratorConfig {
  homeDir: string;
  /** Where agents run; one runtime per orchestrator. */
  runtime: 'docker' | 'kubernetes';
  kubernetes: KubernetesRuntimeConfig;
  databaseUrl: string | undefined;
  api: {
    host: string;
    port: number;
    adminTokenSha256: string | undefined;
    socketPath: string;
    /** How long the CLI waits on the service: for an answer to begin, and through a pause in its body (ms). */
    cliAnswerTimeoutMs: number;
    cliIdleTimeoutMs: number;
  };
  dockerSocket: string;
  targetsFile: string;
  subnetPool: string;
  subnetPrefix: number;
  agent: {
    image: string;
    memoryBytes: number;
    nanoCpus: number;
    pids: number;
    tmpfsBytes: number;
    ociRuntime: string | undefined;
    healthTimeoutMs: number;
    user: string;
    /** The portal origin agents link to in their mail (AGENT_PORTAL_URL); unknown with PORTAL_PORT=0. */
    portalUrl: string | undefined;
  };
  reconcileIntervalMs: number;
  vault:
    | { kind: 'embedded'; port: number; dataDir: string }
    | { kind: 'external'; address: string; tokenFile: string; agentAddress: string; caCertFile?: string };
  agentReadyTimeoutMs: number;
  rotationSchedule: string;
  auditCheckpointIntervalMs: number;
  retentionDays: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  version: string;
  portal: PortalConfig;
  /** Agents' way out (Docker): internal networks and the allow-listing egress proxy, or open networks. */
  egress: EgressConfig;
  /** What `fleet doctor` asks beyond the fleet itself (Prometheus). */
  doctor: DoctorConfig;
}

export type { PortalConfig } from './config-portal.ts';

export const FLEET_VERSION = '0.1.0';

/** Where the settings named in a refusal come from, and what to do: they are not files or options. */
const CONFIG_FIX_HINT =
  'These are environment variables (the systemd service also reads /etc/agent-fleet/env): correct or unset each one named above, then run the command again.';

/** Reads and checks the orchestrator's settings; every problem is reported at once, as an `invalid_input` FleetError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<OrchestratorConfig> {
  const result = orchestratorEnvSchema.safeParse(env);
  const issues = [...(result.success ? [] : result.error.issues), ...misspeltSettingIssues(env, Object.keys(orchestratorEnvSchema.shape))];
  if (!result.success || issues.length > 0) {
    const lines = issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new FleetError('invalid_input', `invalid orchestrator configuration:\n  ${lines.join('\n  ')}\n${CONFIG_FIX_HINT}`);
  }
  const e = result.data;
  const commandEnv: Record<string, string> = {};
  for (const name of KUBE_COMMAND_ENV) {
    const value = env[name];
    if (value) commandEnv[name] = value;
  }
  return Object.freeze({
    homeDir: e.AGENT_FLEET_HOME,
    runtime: e.FLEET_RUNTIME,
    kubernetes: {
      context: e.FLEET_KUBE_CONTEXT,
      helmPath: e.FLEET_HELM_PATH,
      kubectlPath: e.FLEET_KUBECTL_PATH,
      chartPath: e.FLEET_AGENT_CHART,
      orchestratorNamespace: e.FLEET_ORCHESTRATOR_NAMESPACE,
      monitoringNamespace: e.FLEET_MONITORING_NAMESPACE,
      vaultNamespace: e.FLEET_VAULT_NAMESPACE,
      storageClassName: e.FLEET_AGENT_STORAGE_CLASS,
      volumeSize: e.FLEET_AGENT_VOLUME_SIZE,
      clusterDomain: e.FLEET_CLUSTER_DOMAIN,
      commandEnv,
    },
    databaseUrl: e.DATABASE_URL,
    api: {
      host: e.ORCHESTRATOR_HOST,
      port: e.ORCHESTRATOR_PORT,
      adminTokenSha256: e.ORCHESTRATOR_ADMIN_TOKEN_SHA256,
      socketPath: apiSocketPathOf(e.AGENT_FLEET_HOME),
      cliAnswerTimeoutMs: e.FLEET_CLI_ANSWER_TIMEOUT_SECONDS * 1000,
      cliIdleTimeoutMs: e.FLEET_CLI_IDLE_TIMEOUT_SECONDS * 1000,
    },
    dockerSocket: e.DOCKER_SOCKET,
    targetsFile: path.join(e.AGENT_FLEET_HOME, 'targets', 'agents.json'),
    subnetPool: e.FLEET_SUBNET_POOL,
    subnetPrefix: e.FLEET_SUBNET_PREFIX,
    agent: {
      image: e.AGENT_IMAGE ?? `agent-fleet/agent:${FLEET_VERSION}`,
      memoryBytes: e.AGENT_MEMORY_MIB * MIB,
      nanoCpus: Math.round(e.AGENT_CPUS * 1e9),
      pids: e.AGENT_PIDS_LIMIT,
      tmpfsBytes: e.AGENT_TMPFS_MIB * MIB,
      ociRuntime: e.AGENT_OCI_RUNTIME,
      healthTimeoutMs: e.AGENT_HEALTH_TIMEOUT_SECONDS * 1000,
      user: '10001:10001',
      portalUrl: agentPortalUrlOf(e),
    },
    reconcileIntervalMs: e.RECONCILE_INTERVAL_SECONDS * 1000,
    vault: e.VAULT_ADDR
      ? {
          kind: 'external' as const,
          address: e.VAULT_ADDR,
          tokenFile: e.VAULT_TOKEN_FILE ?? '',
          agentAddress: e.VAULT_AGENT_ADDR ?? e.VAULT_ADDR,
          ...(e.VAULT_CACERT === undefined ? {} : { caCertFile: e.VAULT_CACERT }),
        }
      : { kind: 'embedded' as const, port: e.EMBEDDED_VAULT_PORT, dataDir: path.join(e.AGENT_FLEET_HOME, 'vault') },
    agentReadyTimeoutMs: e.AGENT_READY_TIMEOUT_SECONDS * 1000,
    rotationSchedule: e.ROTATION_SCHEDULE.trim(),
    auditCheckpointIntervalMs: e.AUDIT_CHECKPOINT_INTERVAL_SECONDS * 1000,
    retentionDays: e.RETENTION_DAYS,
    logLevel: e.LOG_LEVEL,
    version: FLEET_VERSION,
    egress: egressConfigOf(e),
    doctor: doctorConfigOf(e),
    portal: portalConfigOf(e),
  });
}
