import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { TEAM_POLICY, type MemberPrincipal } from '../domain/team-member.ts';
import type { TeamSessions } from '../services/team/team-sessions.ts';
import { opsAccessOf, type OpsRoute } from './ops-access.ts';

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/;

function bearerOf(request: Request): string | null {
  return BEARER.exec(request.get('authorization') ?? '')?.[1] ?? null;
}

function matchesSha256(token: string, expected: Buffer): boolean {
  return timingSafeEqual(createHash('sha256').update(token).digest(), expected);
}

/**
 * Bearer-token check for the TCP API. Only the token's SHA-256 is configured, so no usable credential
 * sits in the orchestrator's config or environment. Without a configured hash the TCP API is closed.
 */
export function requireAdminToken(expectedSha256Hex: string | undefined): RequestHandler {
  const expected = expectedSha256Hex ? Buffer.from(expectedSha256Hex, 'hex') : null;
  return (request, _response, next) => {
    if (!expected) {
      next(
        new FleetError(
          'forbidden',
          'the TCP API is disabled: set ORCHESTRATOR_ADMIN_TOKEN_SHA256, or use the local socket',
        ),
      );
      return;
    }
    const token = bearerOf(request);
    if (token === null || !matchesSha256(token, expected)) {
      next(new FleetError('unauthorized', 'missing or invalid admin bearer token'));
      return;
    }
    next();
  };
}

/** Which listener a request came in on: the owner-only unix socket, or TCP. */
export type OpsTransport = 'socket' | 'tcp';

/** What the authentication found, for the routes and the refusal log (`response.locals.ops`). */
export interface OpsCaller {
  transport: OpsTransport;
  principal: MemberPrincipal | null;
  /** The member's session token (logout and a second-factor refresh act on it). */
  sessionToken: string | null;
  /** No session, on the socket, adding the first member of an empty team. */
  bootstrap: boolean;
  /** No session, on the socket, a change while the team is still empty (a fresh install): see SETUP_ACTOR. */
  setup: boolean;
}

/**
 * The actor of changes made on a fresh install before the first team member exists (the owner-only
 * socket's file permissions vouch for the caller, as for the bootstrap). It ends for good with the first
 * member: the last member cannot be removed. Client data (`fresh` routes) is never open to it.
 */
export const SETUP_ACTOR = 'setup@socket';

/** The response header naming the actor a change was made as when no member signed in (setup mode). */
export const ACTING_AS_HEADER = 'x-fleet-acting-as';

export interface OpsAuthOptions {
  transport: OpsTransport;
  sessions: Pick<TeamSessions, 'authenticate'>;
  /** Whether the member holds an active support grant of the client (a read then shows client content). */
  hasActiveGrant: (clientId: string, member: string) => Promise<boolean>;
  /** Whether the team has no member yet (a fresh install: changes on the socket are made as SETUP_ACTOR). */
  teamIsEmpty: () => Promise<boolean>;
  /** TCP only: sha256 of the read-only machine token (ORCHESTRATOR_ADMIN_TOKEN_SHA256), for reads without content. */
  adminTokenSha256?: string | undefined;
  /** Called on each request refused as unauthenticated (fleet_api_auth_failures_total{surface="api"}). */
  onRefused?: () => void;
}

export function opsCallerOf(response: Response): OpsCaller | undefined {
  return response.locals['ops'] as OpsCaller | undefined;
}

const SIGN_IN =
  'sign in first: fleet login <member> (every change on the ops API is made by a named team member)';
const FRESH = `this touches client data: enter a code within the last ${TEAM_POLICY.freshFactorMs / 60_000} minutes (fleet login --refresh, or --code <code> on the command)`;

/**
 * Authenticates every ops API request (runs after the JSON body parser): a member's session from its
 * bearer token, checked against the route's rule (ops-access.ts), and the member written as the
 * request's `actor` in its body (and, for the reads that act as the member, its query), replacing
 * whatever the caller wrote there: the ops log names who signed in, never who the caller says.
 * Refusals are FleetErrors (401 or 403, exit 5 in the CLI) that the refusal log records.
 */
export function authenticateOps(options: OpsAuthOptions): RequestHandler {
  const adminToken = options.adminTokenSha256 ? Buffer.from(options.adminTokenSha256, 'hex') : null;
  return (request, response, next) => {
    const route = opsAccessOf(request.method, request.path);
    const caller: OpsCaller = {
      transport: options.transport,
      principal: null,
      sessionToken: null,
      bootstrap: false,
      setup: false,
    };
    response.locals['ops'] = caller;
    const token = bearerOf(request);
    const decide = async (): Promise<void> => {
      if (token !== null && token.startsWith('fs1.')) {
        caller.principal = await options.sessions.authenticate(token);
        if (caller.principal === null)
          throw new FleetError('unauthorized', `the session is unknown or has ended: ${SIGN_IN}`);
        caller.sessionToken = token;
        await checkMember(route, caller.principal);
        actAs(request, route, caller.principal.member);
        return;
      }
      const machine =
        token !== null &&
        adminToken !== null &&
        options.transport === 'tcp' &&
        matchesSha256(token, adminToken);
      if (token !== null && !machine)
        throw new FleetError('unauthorized', `invalid bearer token: ${SIGN_IN}`);
      if (route.access === 'public') return;
      if (route.access === 'read' && (options.transport === 'socket' || machine)) return;
      if (route.access === 'bootstrap' && options.transport === 'socket') {
        caller.bootstrap = true;
        return;
      }
      if (
        token === null &&
        route.access === 'member' &&
        options.transport === 'socket' &&
        (await options.teamIsEmpty())
      ) {
        caller.setup = true;
        actAs(request, route, SETUP_ACTOR);
        // The CLI warns once that a change went through without a team member (cli-context.ts).
        response.setHeader(ACTING_AS_HEADER, SETUP_ACTOR);
        return;
      }
      if (machine) throw new FleetError('forbidden', `the admin token only reads: ${SIGN_IN}`);
      throw new FleetError('unauthorized', SIGN_IN);
    };
    const checkMember = async (rule: OpsRoute, principal: MemberPrincipal): Promise<void> => {
      const needsFresh =
        rule.access === 'fresh' ||
        rule.access === 'bootstrap' ||
        (rule.access === 'grant-read' &&
          rule.clientId !== null &&
          (await options.hasActiveGrant(rule.clientId, principal.member)));
      if (needsFresh && !principal.freshSecondFactor) throw new FleetError('forbidden', FRESH);
    };
    decide().then(
      () => next(),
      (error: unknown) => {
        if (isFleetError(error) && error.code === 'unauthorized') options.onRefused?.();
        next(error);
      },
    );
  };
}

/** The member as the actor of the request, whatever the caller wrote (routes read `actor` as before). */
function actAs(request: Request, route: OpsRoute, member: string): void {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    const body: unknown = request.body;
    if (body === undefined || body === null) request.body = { actor: member };
    else if (typeof body === 'object' && !Array.isArray(body))
      request.body = { ...(body as Record<string, unknown>), actor: member };
  }
  if (route.actorInQuery) {
    // Express 5 computes `query` from the URL on every read: an own property stands in for it.
    Object.defineProperty(request, 'query', {
      value: { ...request.query, actor: member },
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
}
