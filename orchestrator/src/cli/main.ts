#!/usr/bin/env node
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { describeCauseChain, FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { loadConfig } from '../config.ts';
import type { OpsLogVerification } from '../domain/ops-log-chain.ts';
import type { ReconcileReport } from '../services/reconcile-fleet.ts';
import type { ClientDescription } from '../services/describe-client.ts';
import type { SupportGrant as SupportGrantView } from '../services/support-access.ts';
import { EXIT_CODES } from './exit-codes.ts';
import { OrchestratorClient } from './orchestrator-client.ts';
import { provisionWithProgress } from './provision-progress.ts';
import { registerConnectCommand } from './connect-command.ts';
import { readStandardInput } from './secret-input.ts';

const config = loadConfig();
const client = new OrchestratorClient({ socketPath: config.api.socketPath, homeDir: config.homeDir });
const actor = `${os.userInfo().username}@${os.hostname()}`.replace(/[^\w.@:+-]/g, '_').slice(0, 100);

async function connected(): Promise<OrchestratorClient> {
  await client.ensureRunning();
  return client;
}

function runtimeOption(value: string): 'docker' | 'kubernetes' {
  if (value !== 'docker' && value !== 'kubernetes') {
    throw new FleetError('invalid_input', `--runtime must be docker or kubernetes (got ${JSON.stringify(value)})`);
  }
  return value;
}

/**
 * The service the CLI is about to start runs agents on the requested runtime. Its settings are checked
 * here first, so a missing one (VAULT_ADDR for kubernetes) is one clear line instead of a dead service.
 */
function useRuntimeForService(runtime: 'docker' | 'kubernetes'): void {
  try {
    loadConfig({ ...process.env, FLEET_RUNTIME: runtime });
  } catch (error) {
    throw new FleetError('invalid_input', (error as Error).message);
  }
  // The service is spawned with this process's environment (OrchestratorClient.ensureRunning).
  process.env.FLEET_RUNTIME = runtime;
}

/** Client ids are checked here too, so a bad one is refused before the service is even started. */
function clientPath(rawClientId: string, suffix = ''): string {
  return `/v1/clients/${parseClientId(rawClientId)}${suffix}`;
}

function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

const program = new Command('fleet')
  .description('agent-fleet: one isolated AI employee per client')
  .option('--json', 'print machine-readable JSON')
  .option('--verbose', 'on error, print the cause chain')
  .showHelpAfterError();

program
  .command('provision')
  .description('create (or converge) the client’s hardened agent container, network, volume and scrape target')
  .argument('<client>', 'client id (DNS-1123 label, e.g. acme)')
  .option('-c, --config <file>', 'client config YAML (default: safe defaults)')
  .option('--runtime <runtime>', 'docker or kubernetes: the runtime the orchestrator must run (it picks FLEET_RUNTIME when the CLI starts it)')
  .action(async (clientId: string, options: { config?: string; runtime?: string }) => {
    parseClientId(clientId);
    const body: { config?: string; actor: string; runtime?: 'docker' | 'kubernetes' } = { actor };
    if (options.runtime !== undefined) {
      body.runtime = runtimeOption(options.runtime);
      if (!(await client.isRunning())) useRuntimeForService(body.runtime);
    }
    if (options.config) {
      try {
        body.config = await readFile(options.config, 'utf8');
      } catch (error) {
        throw new FleetError('invalid_input', `cannot read config file ${options.config}: ${(error as Error).message}`);
      }
    }
    const result = await provisionWithProgress(await connected(), clientId, body);
    if (result.outcome === 'provisioned') for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    print(result, program.opts().json === true, () => {
      if (result.outcome === 'already-active') return `${result.clientId} is already active: nothing to do.`;
      const total = result.steps.reduce((sum, step) => sum + step.durationMs, 0);
      return [
        `${result.clientId} is active on ${result.runtime} (${(total / 1000).toFixed(2)} s).`,
        `  health:   curl -s http://${result.controlAddress}/healthz`,
        `  metrics:  curl -s http://${result.metricsAddress}/metrics`,
        `  status:   make status CLIENT=${result.clientId}   (or: npm run fleet -- status ${result.clientId})`,
      ].join('\n');
    });
  });

program
  .command('status')
  .description('registry state, container state and scrape target of one client')
  .argument('<client>')
  .action(async (clientId: string) => {
    const status = await (await connected()).request<ClientDescription>('GET', clientPath(clientId));
    print(status, program.opts().json === true, () =>
      [
        `client:   ${status.client.id}`,
        `status:   ${status.client.status}${status.client.statusReason ? ` (${status.client.statusReason})` : ''}`,
        `runtime:  ${status.runtime}`,
        `agent:    ${status.agent ? `${status.agent.status}${status.agent.endpoints ? ` control ${status.agent.endpoints.control} metrics ${status.agent.endpoints.metrics}` : ''}` : 'no container'}`,
        `subnet:   ${status.client.subnet ?? '-'}`,
        `target:   ${status.scrapeTarget ?? '-'}`,
      ].join('\n'),
    );
  });

program
  .command('list')
  .description('every client with its status')
  .action(async () => {
    const { clients } = await (await connected()).request<{ clients: ClientDescription['client'][] }>('GET', '/v1/clients');
    print(clients, program.opts().json === true, () =>
      clients.length === 0
        ? 'no clients yet: make provision CLIENT=<id>'
        : clients.map((c) => `${c.id.padEnd(34)} ${c.status.padEnd(15)} ${c.subnet ?? '-'}`).join('\n'),
    );
  });

program
  .command('deprovision')
  .description('stop and remove the client’s agent and network (the volume is kept unless --purge)')
  .argument('<client>')
  .option('--purge', 'also delete the client’s volume and data')
  .option('--reason <text>', 'why, for the ops log')
  .action(async (clientId: string, options: { purge?: boolean; reason?: string }) => {
    const result = await (await connected()).request<{ clientId: string; purged: boolean }>(
      'POST',
      clientPath(clientId, '/deprovision'),
      { purge: options.purge === true, reason: options.reason, actor },
    );
    print(result, program.opts().json === true, () =>
      result.purged ? `${result.clientId} removed, data purged.` : `${result.clientId} removed; its volume is kept (--purge deletes it).`,
    );
  });

program
  .command('reconcile')
  .description('make the runtime match the registry once: restart crashed agents, remove orphans, report drift')
  .action(async () => {
    const report = await (await connected()).request<ReconcileReport>('POST', '/v1/reconcile');
    print(report, program.opts().json === true, () =>
      [
        ...report.actions.map((a) => `${a.kind.padEnd(15)} ${a.clientId}: ${a.detail}`),
        ...report.drift.map((d) => `drift           ${d}`),
        report.actions.length + report.drift.length === 0 ? 'in sync: nothing to do' : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  });

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('type the value, then press Ctrl-D (it is not echoed to any log)\n');
  return readStandardInput();
}

function requiredReason(reason: string | undefined): string {
  if (!reason?.trim()) throw new FleetError('invalid_input', 'a reason is required (--reason "…"): it goes to the ops log');
  return reason;
}

program
  .command('kill')
  .description('kill switch: revoke the agent’s tokens, deny its Vault policy, stop it; nothing it does gets out after this returns')
  .argument('<client>')
  .requiredOption('--reason <text>', 'why, for the ops log')
  .action(async (clientId: string, options: { reason: string }) => {
    const result = await (await connected()).request<{ revokedTokens: number; containerStopped: boolean; durationMs: number }>(
      'POST',
      clientPath(clientId, '/kill'),
      { reason: requiredReason(options.reason), actor },
    );
    print(result, program.opts().json === true, () =>
      `${clientId} KILLED in ${Math.round(result.durationMs)} ms: ${result.revokedTokens} token(s) revoked, container ${result.containerStopped ? 'stopped' : 'NOT confirmed stopped'}. Undo with: fleet revive ${clientId} --reason "…"`,
    );
    if (!result.containerStopped) process.exitCode = EXIT_CODES.unavailable;
  });

program
  .command('revive')
  .description('undo a kill: restore the policy, start the agent with a fresh secret introduction')
  .argument('<client>')
  .requiredOption('--reason <text>', 'why, for the ops log')
  .action(async (clientId: string, options: { reason: string }) => {
    await (await connected()).request('POST', clientPath(clientId, '/revive'), { reason: requiredReason(options.reason), actor });
    print({ revived: clientId }, program.opts().json === true, () => `${clientId} revived and active.`);
  });

program
  .command('rotate')
  .description('rotate the agent’s Vault token, data key and control token (old data stays readable)')
  .argument('<client>')
  .option('--reason <text>', 'why, for the ops log', 'manual rotation')
  .action(async (clientId: string, options: { reason: string }) => {
    const result = await (await connected()).request<{ revokedTokens: number; dataKeyVersion: number }>(
      'POST',
      clientPath(clientId, '/rotate'),
      { reason: requiredReason(options.reason), actor },
    );
    print(result, program.opts().json === true, () =>
      `${clientId}: ${result.revokedTokens} old token(s) revoked, data key now version ${result.dataKeyVersion}, agent re-introduced.`,
    );
  });

program
  .command('resume')
  .description('resume sending after a rate-limit or authentication pause')
  .argument('<client>')
  .action(async (clientId: string) => {
    await (await connected()).request('POST', clientPath(clientId, '/resume'), { actor });
    print({ resumed: clientId }, program.opts().json === true, () => `${clientId}: sending resumed.`);
  });

const secretsCommand = program.command('secrets').description('the client’s secrets in Vault (values are never shown)');
secretsCommand
  .command('set')
  .description('store a secret; the value is read from standard input, never from the command line')
  .argument('<client>')
  .argument('<name>', 'e.g. gmail-oauth, outlook-oauth, anthropic')
  .action(async (clientId: string, name: string) => {
    const value = await readStdin();
    const result = await (await connected()).request<{ version: number }>(
      'PUT',
      clientPath(clientId, `/secrets/${encodeURIComponent(name)}`),
      { value, actor },
    );
    print(result, program.opts().json === true, () => `${clientId}/${name} stored (version ${result.version}).`);
  });
secretsCommand
  .command('list')
  .argument('<client>')
  .action(async (clientId: string) => {
    const { secrets } = await (await connected()).request<{ secrets: Array<{ name: string; version: number; updatedAt: string }> }>(
      'GET',
      clientPath(clientId, '/secrets'),
    );
    print(secrets, program.opts().json === true, () =>
      secrets.length === 0 ? 'no secrets' : secrets.map((s) => `${s.name.padEnd(24)} v${s.version}  ${s.updatedAt}`).join('\n'),
    );
  });

registerConnectCommand(program, { connected, actor, json: () => program.opts().json === true });

const approvals = program.command('approvals').description('drafts and actions waiting for a client admin');
approvals
  .command('list')
  .argument('<client>')
  .option('--status <status>', 'pending, approved, rejected, expired or all', 'pending')
  .action(async (clientId: string, options: { status: string }) => {
    const result = await (await connected()).request<unknown>('GET', clientPath(clientId, `/approvals?status=${encodeURIComponent(options.status)}`));
    print(result, true, () => '');
  });
for (const decision of ['approve', 'reject'] as const) {
  approvals
    .command(decision)
    .argument('<client>')
    .argument('<approval-id>')
    .requiredOption('--by <admin>', 'the client admin deciding')
    .option('--reason <text>', decision === 'reject' ? 'required: why it is rejected' : 'optional note')
    .action(async (clientId: string, approvalId: string, options: { by: string; reason?: string }) => {
      const result = await (await connected()).request<unknown>(
        'POST',
        clientPath(clientId, `/approvals/${encodeURIComponent(approvalId)}/decision`),
        { decision, by: options.by, reason: options.reason, actor },
      );
      print(result, program.opts().json === true, () => `${approvalId}: ${decision === 'approve' ? 'approved' : 'rejected'}.`);
    });
}

const audit = program.command('audit').description('the agent’s tamper-evident, encrypted audit log');
audit
  .command('verify')
  .argument('<client>')
  .action(async (clientId: string) => {
    const result = await (await connected()).request<{ verification: { ok: boolean; count?: number; break?: { kind: string; seq: number; message: string } }; checkpoint: unknown }>(
      'GET',
      clientPath(clientId, '/audit/verify'),
    );
    print(result, program.opts().json === true, () =>
      result.verification.ok
        ? `audit log of ${clientId} intact: ${result.verification.count} records${result.checkpoint ? ', consistent with the last checkpoint' : ''}.`
        : `AUDIT LOG OF ${clientId} BROKEN: ${result.verification.break?.kind} at seq ${result.verification.break?.seq}: ${result.verification.break?.message}`,
    );
    if (!result.verification.ok) process.exitCode = EXIT_CODES.integrity;
  });
audit
  .command('export')
  .argument('<client>')
  .option('--format <format>', 'jsonl or csv', 'jsonl')
  .option('--since <iso>', 'from this time (ISO 8601)')
  .option('--until <iso>', 'until this time (ISO 8601)')
  .action(async (clientId: string, options: { format: string; since?: string; until?: string }) => {
    const query = new URLSearchParams({ format: options.format, actor });
    if (options.since) query.set('since', options.since);
    if (options.until) query.set('until', options.until);
    await (await connected()).download(clientPath(clientId, `/audit/export?${query}`), process.stdout);
  });

const support = program.command('support').description('per-incident, client-approved, time-limited access of the team to a client’s data');
support
  .command('request')
  .argument('<client>')
  .requiredOption('--incident <id>', 'the incident this access is for, e.g. INC-42')
  .requiredOption('--reason <text>', 'why the team needs the client’s data')
  .option('--hours <n>', 'how long the access lasts once approved (1-24)', '4')
  .option('--member <identity>', 'the team member it is for (default: you)')
  .action(async (clientId: string, options: { incident: string; reason: string; hours: string; member?: string }) => {
    const hours = Number(options.hours);
    if (!Number.isInteger(hours)) throw new FleetError('invalid_input', '--hours must be a whole number from 1 to 24');
    const grant = await (await connected()).request<SupportGrantView>('POST', clientPath(clientId, '/support-grants'), {
      incident: options.incident,
      reason: options.reason,
      hours,
      ...(options.member === undefined ? {} : { member: options.member }),
      actor,
    });
    print(grant, program.opts().json === true, () =>
      [`${grant.id}: requested for ${grant.member} (${grant.incident}, ${grant.hours} h once approved).`, `  a client admin approves it: fleet support approve ${clientId} ${grant.id} --by <admin>`].join('\n'),
    );
  });
support
  .command('approve')
  .argument('<client>')
  .argument('<grant-id>')
  .requiredOption('--by <admin>', 'the client admin approving (one of the admins in the client’s config)')
  .action(async (clientId: string, grantId: string, options: { by: string }) => {
    const grant = await (await connected()).request<SupportGrantView>('POST', clientPath(clientId, `/support-grants/${encodeURIComponent(grantId)}/approve`), { by: options.by, actor });
    print(grant, program.opts().json === true, () => `${grant.id}: approved by ${grant.approvedBy}; ${grant.member} has access until ${grant.expiresAt}.`);
  });
support
  .command('revoke')
  .argument('<client>')
  .argument('<grant-id>')
  .action(async (clientId: string, grantId: string) => {
    const grant = await (await connected()).request<SupportGrantView>('POST', clientPath(clientId, `/support-grants/${encodeURIComponent(grantId)}/revoke`), { actor });
    print(grant, program.opts().json === true, () => `${grant.id}: ${grant.status}.`);
  });
support
  .command('list')
  .argument('<client>')
  .action(async (clientId: string) => {
    const { grants } = await (await connected()).request<{ grants: SupportGrantView[] }>('GET', clientPath(clientId, '/support-grants'));
    print(grants, program.opts().json === true, () =>
      grants.length === 0
        ? 'no support grants'
        : grants.map((g) => `${g.id}  ${g.status.padEnd(8)} ${g.member}  ${g.incident}  ${g.expiresAt ?? '-'}  ${g.reason}`).join('\n'),
    );
  });

const opsLog = program.command('ops-log').description('the append-only, hash-chained log of admin actions');
opsLog
  .command('show')
  .option('--client <id>', 'only this client')
  .action(async (options: { client?: string }) => {
    const query = options.client ? `?client=${encodeURIComponent(options.client)}` : '';
    const { entries } = await (await connected()).request<{ entries: Array<Record<string, unknown>> }>('GET', `/v1/ops-log${query}`);
    print(entries, program.opts().json === true, () =>
      entries.map((e) => `${e.seq} ${e.at} ${e.actor} ${e.action} ${e.clientId ?? '-'} ${e.outcome}${e.reason ? ` (${e.reason})` : ''}`).join('\n'),
    );
  });
opsLog
  .command('verify')
  .action(async () => {
    const result = await (await connected()).request<OpsLogVerification>('GET', '/v1/ops-log/verify');
    print(result, program.opts().json === true, () =>
      result.valid ? `ops log intact: ${result.entries} entries, head ${result.head.slice(0, 16)}…` : `OPS LOG TAMPERED: ${result.problem} at seq ${result.firstBadSeq}`,
    );
    if (!result.valid) process.exitCode = EXIT_CODES.integrity;
  });

const daemon = program.command('service').description('the orchestrator service that owns the registry, Docker and secrets');
daemon.command('start').action(async () => {
  await client.ensureRunning();
  print({ running: true }, program.opts().json === true, () => `orchestrator running (socket ${config.api.socketPath})`);
});
daemon.command('status').action(async () => {
  const running = await client.isRunning();
  print({ running }, program.opts().json === true, () => (running ? 'orchestrator running' : 'orchestrator not running'));
  if (!running) process.exitCode = EXIT_CODES.unavailable;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = isFleetError(error) ? error.code : 'internal';
  process.stderr.write(`fleet: ${(error as Error).message}\n`);
  if (program.opts().verbose) for (const line of describeCauseChain(error).slice(1)) process.stderr.write(`  caused by ${line}\n`);
  process.exitCode = EXIT_CODES[code];
}
