import type express from 'express';
import type { AdminRef } from '../../ports/portal-store.ts';
import type { PortalContext } from '../portal-context.ts';
import {
  PRE_COOKIE,
  SESSION_COOKIE,
  clearSessionCookie,
  setDeviceCookie,
  setSessionCookie,
} from './cookies.ts';
import { stateOf } from './request-state.ts';

/**
 * Starts the signed-in session with a new token (nothing of the anonymous one carries over) and records it.
 * The browser becomes a known device of the address (a new device cookie each time, as OWASP advises).
 */
export async function signIn(
  context: PortalContext,
  response: express.Response,
  admin: AdminRef,
  event: string,
): Promise<void> {
  const state = stateOf(response);
  if (state.pre) await context.sessions.end(state.pre);
  if (state.active) await context.sessions.end(state.active);
  const session = await context.sessions.start('active', admin);
  setSessionCookie(response, SESSION_COOKIE, session.token);
  clearSessionCookie(response, PRE_COOKIE);
  setDeviceCookie(response, context.totp.trustDevice(admin.email));
  state.pre = null;
  state.active = session;
  state.admin = admin;
  await context.gateway.recordAdminEvent(admin.clientId, admin.email, event);
}
