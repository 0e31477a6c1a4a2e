import type express from 'express';
import * as z from 'zod';
import type { SettingsVersion } from '@agent-fleet/kernel/settings-version';
import type { DashboardsAccess } from '../services/daily-summary/dashboards.ts';
import type { SettingsAccess } from '../services/settings/settings-desk.ts';
import { jsonBodyParser } from './json-body.ts';
import { parseInput, type Route } from './route-kit.ts';

/** Room for a 1 MiB document and its envelope; a larger document is refused by name, not by the parser. */
const BODY_LIMIT = '3mb';

const author = z.object({ kind: z.enum(['admin', 'operator']), id: z.string().trim().min(1).max(320) }).strict();
const confirm = z.array(z.string().min(1).max(100)).max(50).default([]);
const reason = z.string().max(1000).default('');
const changeBody = z.object({ baseVersion: z.number().int().min(0), document: z.unknown(), author, reason, confirm }).strict();
const rollbackBody = z
  .object({ toVersion: z.number().int().min(1), baseVersion: z.number().int().min(0).optional(), author, reason, confirm })
  .strict();
const historyQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();
const versionParam = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const seriesQuery = z.object({ days: z.coerce.number().int().min(1).max(90).default(30) }).strict();

/** A version without its document: what history lists. */
function summaryOf(version: SettingsVersion) {
  const { config: _config, ...rest } = version;
  return rest;
}

/**
 * The client's settings as versions (control token required), mounted before the app's 256 kB body
 * parser so a document up to 1 MiB gets through to be judged:
 *   GET  /v1/settings                 the head, with its document
 *   GET  /v1/settings/head            { version, hash } (the orchestrator checkpoints it)
 *   GET  /v1/settings/history?limit=  versions newest first, without documents
 *   GET  /v1/settings/versions/:n     one version with its document
 *   POST /v1/settings                 a new version: { baseVersion, document, author, reason, confirm }
 *   POST /v1/settings/rollback        { toVersion, baseVersion?, author, reason, confirm }
 *   GET  /v1/settings/graduation      approval decisions per email type, with suggestions
 *   GET  /v1/summary/series?days=30   per-day counts for the portal's charts
 * Errors: 409 conflict "changed by X at T, reload" for a stale edit; 400 naming each invalid field, or the
 * guard rails not confirmed; nothing is applied half.
 */
export function mountSettingsRoutes(app: express.Express, authenticated: Route, source: SettingsAccess & DashboardsAccess): void {
  const parser = jsonBodyParser(BODY_LIMIT);
  // The body is read only once the control token is checked: no stranger gets a 3 MB body parsed.
  const body = (request: express.Request, response: express.Response) =>
    new Promise<unknown>((resolve, reject) => parser(request, response, (error?: unknown) => (error ? reject(error) : resolve(request.body))));
  app.get(
    '/v1/settings',
    authenticated(async (_request, response) => {
      response.json(source.settingsAccess().head());
    }),
  );
  app.get(
    '/v1/settings/head',
    authenticated(async (_request, response) => {
      const head = source.settingsAccess().head();
      response.json({ version: head.version, hash: head.hash });
    }),
  );
  app.get(
    '/v1/settings/history',
    authenticated(async (request, response) => {
      const query = parseInput(historyQuery, request.query);
      response.json({ versions: source.settingsAccess().history(query.limit).map(summaryOf) });
    }),
  );
  app.get(
    '/v1/settings/versions/:version',
    authenticated(async (request, response) => {
      response.json(source.settingsAccess().version(parseInput(versionParam, request.params['version'])));
    }),
  );
  app.post(
    '/v1/settings',
    authenticated(async (request, response) => {
      const change = parseInput(changeBody, await body(request, response));
      response.json(summaryOf(await source.settingsAccess().change(change)));
    }),
  );
  app.post(
    '/v1/settings/rollback',
    authenticated(async (request, response) => {
      const rollback = parseInput(rollbackBody, await body(request, response));
      response.json(summaryOf(await source.settingsAccess().rollback(rollback)));
    }),
  );
  app.get(
    '/v1/settings/graduation',
    authenticated(async (_request, response) => {
      response.json({ types: await source.graduation() });
    }),
  );
  app.get(
    '/v1/summary/series',
    authenticated(async (request, response) => {
      response.json(await source.dailySeries(parseInput(seriesQuery, request.query).days));
    }),
  );
}
