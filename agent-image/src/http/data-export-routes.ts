import { tmpdir } from 'node:os';
import type express from 'express';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { renderClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { readVaultCaFile } from '../adapters/vault/vault-ca-file.ts';
import { VaultSecretSource } from '../adapters/vault/vault-secret-source.ts';
import { loadAgentEnv } from '../config.ts';
import { DataExportSessions } from '../services/data-export/export-session.ts';
import { exportPart, isExportPart } from '../services/data-export/export-parts.ts';
import type { ControlAuth } from '../services/runtime/control-api.ts';
import type { ControlAuthRefusals } from './control-auth-refusals.ts';
import { requireControlToken } from './control-token-gate.ts';
import { exportSessionGate } from './export-session-gate.ts';
import { introductionBody } from './introduction-body.ts';
import { introductionVaultAddr } from './introduction-vault.ts';
import { writeWithBackpressure as write } from './response-sink.ts';


type Handler = (request: express.Request, response: express.Response) => Promise<void>;
const wrap =
  (handler: Handler): express.RequestHandler =>
  (request, response, next) => {
    handler(request, response).catch(next);
  };

/** What the routes use of the export sessions (DataExportSessions). */
export type ExportSessionDesk = Pick<DataExportSessions, 'open' | 'authenticate' | 'lease' | 'close'>;

/** The sessions and the Vault they were configured with (VAULT_ADDR; undefined when none). */
export interface ConfiguredSessions {
  sessions: ExportSessionDesk;
  vaultAddr: string | undefined;
}

/** Sessions over this process's volume, built on first use from the agent's environment. */
function sessionsFor(open: () => Promise<ConfiguredSessions>): () => Promise<ConfiguredSessions> {
  let sessions: Promise<ConfiguredSessions> | null = null;
  return () => {
    sessions ??= open().catch((error: unknown) => {
      sessions = null; // a CA file placed wrong can be mended: the next request reads it again
      throw error;
    });
    return sessions;
  };
}

async function openSessions(desk: { readonly clientId: string }, logger: Logger): Promise<ConfiguredSessions> {
  const env = loadAgentEnv();
  const clientId = parseClientId(desk.clientId);
  // The fleet CA the embedded Vault's certificate is checked against (docs/tls.md); read once, on first use,
  // bounded and only as a regular file, like every file placed for the agent.
  const caPem = env.VAULT_CACERT === undefined ? undefined : await readVaultCaFile(env.VAULT_CACERT);
  const sessions = new DataExportSessions({
    clientId,
    dataDir: env.AGENT_DATA_DIR,
    tmpDir: tmpdir(),
    vaultAddr: env.VAULT_ADDR,
    logger: logger.child({ component: 'data-export' }),
    secretSource: (input) => new VaultSecretSource({ clientId, ...input, logger, ...(caPem === undefined ? {} : { caPem }) }),
  });
  return { sessions, vaultAddr: env.VAULT_ADDR };
}

/**
 * The complete export's read side (see DataExportSessions): POST /v1/data-export/session redeems a
 * wrapped introduction (open, like /v1/introduce: the wrap is the credential); GET /v1/data-export/<part>
 * streams one part of the client's data and POST /v1/data-export/session/close ends the session, both
 * with the control token. The token is checked before anything else (exportSessionGate): a caller without
 * it is answered 401 whether a session is open or not.
 *
 * `openConfiguredSessions` builds the sessions (once, on first use); default from the agent's environment.
 */
export function mountDataExportRoutes(
  app: express.Express,
  desk: { readonly clientId: string; startedConfig(): ClientConfig } & ControlAuth,
  logger: Logger,
  refusals: ControlAuthRefusals,
  openConfiguredSessions: () => Promise<ConfiguredSessions> = () => openSessions(desk, logger),
): void {
  const sessions = sessionsFor(openConfiguredSessions);
  // Sessions that could not be set up hold no session: the caller is then checked by the agent, and only
  // an authenticated one is answered the setup's error (by the handler, which asks for them again).
  const gate = exportSessionGate(() => sessions().then((configured) => configured.sessions, () => null), desk);
  app.post(
    '/v1/data-export/session',
    wrap(async (request, response) => {
      const parsed = introductionBody.safeParse(request.body);
      if (!parsed.success) throw new FleetError('invalid_input', parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; '));
      // Asked before any credential is checked: a setup error (the environment, the CA file's path) is logged, not told.
      const configured = await sessions().catch((error: unknown) => {
        logger.error('the data export session cannot be set up', { error });
        throw new FleetError('unavailable', 'the export session cannot be set up');
      });
      const vaultAddr = introductionVaultAddr(parsed.data.vaultAddr, configured.vaultAddr);
      try {
        await configured.sessions.open(
          vaultAddr === undefined ? { wrappingToken: parsed.data.wrappingToken, creationPath: parsed.data.creationPath } : { ...parsed.data, vaultAddr },
        );
      } catch (error) {
        // A forged or foreign introduction is refused, whatever the underlying reason.
        if (isFleetError(error) && (error.code === 'integrity' || error.code === 'killed')) throw new FleetError('forbidden', error.message, { cause: error });
        throw error;
      }
      response.status(204).end();
    }),
  );
  app.post(
    '/v1/data-export/session/close',
    wrap(async (request, response) => {
      await requireControlToken(gate, request, response, 'data_export', refusals);
      await (await sessions()).sessions.close();
      response.status(204).end();
    }),
  );
  app.get(
    '/v1/data-export/:part',
    wrap(async (request, response) => {
      await requireControlToken(gate, request, response, 'data_export', refusals);
      const current = (await sessions()).sessions;
      const part = String(request.params['part'] ?? '');
      if (!isExportPart(part)) throw new FleetError('not_found', `no export part ${JSON.stringify(part.slice(0, 60))}`);
      // The config is not read from the volume (sealed there for each start): it is the one this process opened.
      const lease = current.lease();
      try {
        const chunks = exportPart(part, lease.reader, new Date(), renderClientConfigYaml(desk.startedConfig()));
        // The first chunk is read before the headers go out, so an unreadable volume is still a clean error.
        const first = await chunks.next();
        lease.signal.throwIfAborted();
        response.status(200).type(part.endsWith('.yaml') ? 'application/yaml' : 'application/x-ndjson');
        if (!first.done) await write(response, first.value);
        for await (const chunk of chunks) {
          lease.signal.throwIfAborted();
          await write(response, chunk);
        }
        response.end();
      } finally {
        lease.release();
      }
    }),
  );
}
