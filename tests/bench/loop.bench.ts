// Mail loop throughput and overhead: an in-process agent against the Gmail and Anthropic emulators and
// a real embedded Vault, with a fixed model latency. Prints JSON. Overhead per email is the time spent
// outside the model calls (sequential run), which includes the emulators' own HTTP handling.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { connectorsFromSecrets } from '../../agent-image/src/adapters/connectors-from-secrets.ts';
import { VaultSecretSource } from '../../agent-image/src/adapters/vault/vault-secret-source.ts';
import type { LlmClient } from '../../agent-image/src/ports/llm-client.ts';
import type { MailProvider } from '../../agent-image/src/ports/mail-provider.ts';
import { AgentMetrics } from '../../agent-image/src/observability/agent-metrics.ts';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AgentRuntime } from '../../agent-image/src/services/runtime/agent-runtime.ts';
import { AnthropicEmulator } from '../emulators/anthropic-emulator.ts';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import { KNOWN, clientConfig, inboxScript, startVault, uniqueClient } from '../integration/agent/agent-harness.ts';

const EMAILS = Number(process.env['BENCH_EMAILS'] ?? 40);
const MODEL_LATENCY_MS = Number(process.env['BENCH_MODEL_LATENCY_MS'] ?? 100);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function delayed(llm: LlmClient, counter: { ms: number }): LlmClient {
  return {
    classify: async (email) => {
      const started = performance.now();
      await sleep(MODEL_LATENCY_MS);
      const result = await llm.classify(email);
      counter.ms += performance.now() - started;
      return result;
    },
    draftReply: async (email, style, context) => {
      const started = performance.now();
      await sleep(MODEL_LATENCY_MS);
      const result = await llm.draftReply(email, style, context);
      counter.ms += performance.now() - started;
      return result;
    },
  };
}

/** Times every mailbox call (the emulator's HTTP + MIME work), to separate it from the agent's own work. */
function timed(provider: MailProvider, counter: { ms: number }): MailProvider {
  return new Proxy(provider, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          counter.ms += performance.now() - started;
        }
      };
    },
  });
}

async function run(concurrency: number) {
  const vault = await startVault();
  const gmail = new GmailEmulator();
  await gmail.start();
  const anthropic = new AnthropicEmulator();
  await anthropic.start();
  anthropic.useScript(inboxScript);
  const dataDir = await mkdtemp(join(tmpdir(), 'loop-bench-'));
  const id = uniqueClient();
  const config = clientConfig(id, gmail.mailbox, 'gmail', { rateLimits: { perHour: 10_000, perDay: 10_000 } });
  await vault.store.ensureClient(id);
  await vault.admin.write(`fleet/data/${id}/control`, { data: { token_sha256: '0'.repeat(64) } });
  await vault.store.writeSecret(id, 'gmail', JSON.stringify({ client_id: gmail.clientId, client_secret: gmail.clientSecret, refresh_token: gmail.issueRefreshToken(['https://mail.google.com/']) }));
  await vault.store.writeSecret(id, 'anthropic', anthropic.apiKey);
  const modelTime = { ms: 0 };
  const providerTime = { ms: 0 };
  const base = connectorsFromSecrets({ gmailRootUrl: gmail.rootUrl, gmailTokenUrl: gmail.tokenUrl, anthropicBaseUrl: anthropic.url });
  const logger = createSilentLogger();
  const runtime = new AgentRuntime({
    config,
    dataDir,
    logger,
    metrics: new AgentMetrics(new Registry(), { client: id, version: '1.0.0' }),
    vaultAddr: vault.vault.url,
    secretSource: (input) => new VaultSecretSource({ clientId: id, ...input, logger, caPem: vault.vault.caCertificatePem }),
    connectors: async (input) => {
      const built = await base(input);
      return 'missing' in built ? built : { ...built, llm: delayed(built.llm, modelTime), provider: timed(built.provider, providerTime) };
    },
    syncIntervalMs: 0,
    sweepIntervalMs: 0,
    scheduleSummary: false,
    concurrency,
  });
  try {
    const intro = await vault.store.issueAgentIntroduction(id);
    await runtime.introduce({ wrappingToken: intro.wrappingToken, creationPath: intro.creationPath });
    await runtime.tick();
    for (let index = 0; index < EMAILS; index++) {
      await gmail.seedInbound({ from: KNOWN, to: [gmail.mailbox], subject: `Invoice ${index}`, text: `We received the invoice ${index}.` });
    }
    const cpuBefore = process.cpuUsage();
    providerTime.ms = 0;
    const started = performance.now();
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    await runtime.tick();
    clearInterval(sampler);
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    if (gmail.sent.length !== EMAILS) throw new Error(`expected ${EMAILS} sends, got ${gmail.sent.length}`);
    return {
      concurrency,
      elapsedMs: Math.round(elapsedMs),
      emailsPerMinute: Math.round((EMAILS / elapsedMs) * 60_000),
      modelMsPerEmail: Math.round(modelTime.ms / EMAILS),
      overheadMsPerEmail: concurrency === 1 ? Math.round(((elapsedMs - modelTime.ms) / EMAILS) * 100) / 100 : null,
      mailboxCallMsPerEmail: Math.round((providerTime.ms / EMAILS) * 100) / 100,
      agentOwnMsPerEmail: concurrency === 1 ? Math.round(((elapsedMs - modelTime.ms - providerTime.ms) / EMAILS) * 100) / 100 : null,
      cpuMsPerEmail: Math.round(((cpu.user + cpu.system) / 1000 / EMAILS) * 100) / 100,
      cpuShare: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 1000) / 1000,
      peakRssMiB: Math.round(peakRss / 1048576),
    };
  } finally {
    await runtime.stop();
    await anthropic.stop();
    await gmail.stop();
    await vault.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const sequential = await run(1);
const concurrent = await run(4);
console.log(
  JSON.stringify(
    {
      bench: 'loop',
      emails: EMAILS,
      modelLatencyMs: MODEL_LATENCY_MS,
      note: 'in-process: CPU and memory include the Gmail, Anthropic and Vault emulators',
      overheadMsPerEmail: sequential.overheadMsPerEmail,
      agentOwnMsPerEmail: sequential.agentOwnMsPerEmail,
      targetOverheadMs: 20,
      meetsTarget: sequential.agentOwnMsPerEmail !== null && sequential.agentOwnMsPerEmail < 20,
      sequential,
      concurrent,
    },
    null,
    2,
  ),
);
