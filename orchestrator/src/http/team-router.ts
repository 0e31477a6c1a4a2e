import express, { type Router } from 'express';
import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { TeamAccess } from '../compose-team.ts';
import { opsCallerOf, type OpsCaller } from './admin-auth.ts';
import { parseBody } from './parse-body.ts';

const code = z
  .string()
  .trim()
  .regex(/^[0-9]{6}$/, 'a code is the 6 digits the authenticator app shows');
const name = z.string().trim().min(1).max(64);
// `actor` is written by the authentication (the signed-in member); a caller's own value never counts.
const actor = z.string().optional();

const addSchema = z.object({ name, email: z.string().trim().min(3).max(254), actor }).strict();
const loginSchema = z.object({ member: name, code }).strict();
const enrolSchema = z.object({ member: name, enrolmentCode: z.string().trim().min(16).max(64) }).strict();
const codeSchema = z.object({ code, actor }).strict();
const actorOnly = z.object({ actor }).strict();

function signedIn(caller: OpsCaller | undefined): { member: string; token: string } {
  if (!caller?.principal || caller.sessionToken === null)
    throw new FleetError('unauthorized', 'no session: fleet login <member>');
  return { member: caller.principal.member, token: caller.sessionToken };
}

/**
 * `/v1/team` and `/v1/sessions`: the agency's team members, their enrolment and their sessions. What a
 * route needs of its caller is decided before it runs (admin-auth.ts, ops-access.ts). Parse, call, respond.
 */
export function createTeamRouter(team: TeamAccess): Router {
  const router = express.Router();

  router.get('/team/members', async (_request, response) => {
    response.json({ members: await team.members.list() });
  });

  router.post('/team/members', async (request, response) => {
    const body = parseBody(addSchema, request.body);
    const caller = opsCallerOf(response);
    const bootstrap = caller?.bootstrap === true;
    const by = bootstrap ? '' : signedIn(caller).member;
    response
      .status(201)
      .json(await team.members.add({ name: body.name, email: body.email, actor: by, bootstrap }));
  });

  router.post('/team/members/:name/remove', async (request, response) => {
    parseBody(actorOnly, request.body);
    response.json(
      await team.members.remove({ name: request.params.name, actor: signedIn(opsCallerOf(response)).member }),
    );
  });

  router.post('/team/members/:name/reissue', async (request, response) => {
    parseBody(actorOnly, request.body);
    response.json(
      await team.members.reissue({
        name: request.params.name,
        actor: signedIn(opsCallerOf(response)).member,
      }),
    );
  });

  router.post('/team/enrol', async (request, response) => {
    const body = parseBody(enrolSchema, request.body);
    response.locals['claimedMember'] = body.member;
    response.json(await team.members.enrol({ name: body.member, code: body.enrolmentCode }));
  });

  router.post('/sessions', async (request, response) => {
    const body = parseBody(loginSchema, request.body);
    response.locals['claimedMember'] = body.member;
    response.status(201).json(await team.sessions.login(body.member, body.code, opsCallerOf(response)?.transport ?? 'tcp'));
  });

  router.get('/sessions/current', (_request, response) => {
    const caller = opsCallerOf(response);
    response.json({
      member: signedIn(caller).member,
      expiresAt: caller?.principal?.sessionExpiresAt,
      secondFactorAt: caller?.principal?.secondFactorAt,
    });
  });

  router.post('/sessions/current/second-factor', async (request, response) => {
    const body = parseBody(codeSchema, request.body);
    const { token } = signedIn(opsCallerOf(response));
    response.json(await team.sessions.refreshSecondFactor(token, body.code, opsCallerOf(response)?.transport ?? 'tcp'));
  });

  router.delete('/sessions/current', async (_request, response) => {
    const { member, token } = signedIn(opsCallerOf(response));
    await team.sessions.logout(token, member);
    response.status(204).end();
  });

  return router;
}
