import { Eta } from 'eta';
import type express from 'express';
import { fileURLToPath } from 'node:url';
import type { ClientStatusView, StatusReadOptions } from '../client-gateway.ts';
import type { PortalContext } from '../portal-context.ts';
import { gateReasonText } from '@agent-fleet/kernel/gate-reason-text';
import { stateOf } from './request-state.ts';
import { agencyStopText, closureText, revivableByAdmins, stoppedSinceText } from './stop-text.ts';

const VIEWS = fileURLToPath(new URL('../views/', import.meta.url));

/** Auto-escaping templates: `<%= %>` escapes; `<%~ %>` is used only for layout bodies and includes. */
const eta = new Eta({ views: VIEWS, cache: true, autoEscape: true });

const WHEN = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** Formatting helpers the templates use. */
export const formatters = {
  when(iso: string | null | undefined): string {
    if (!iso) return '';
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : `${WHEN.format(date)} UTC`;
  },
  list(values: readonly string[]): string {
    return values.length === 0 ? '(none)' : values.join(', ');
  },
  reason: gateReasonText,
  /** When and by whom the agent was stopped, in words ('' when not known). */
  stoppedSince(status: ClientStatusView | null, viewer: string): string {
    return stoppedSinceText(status, viewer, (iso) => formatters.when(iso));
  },
  /** Who stopped the agent when only the agency can restart it, as a sentence. */
  agencyStop(status: ClientStatusView, viewer: string): string {
    return agencyStopText(status, viewer, (iso) => formatters.when(iso));
  },
  revivable: revivableByAdmins,
  closure: closureText,
};

export interface PageModel {
  title: string;
  /**
   * The kill-switch state the route read itself (with the stop's details, for a page that shows them);
   * absent, the plain state is read here. Null: it could not be read.
   */
  clientStatus?: ClientStatusView | null;
  [key: string]: unknown;
}

/** The client's kill-switch state for a page; null (logged) when it cannot be read: the page still renders. */
export async function readClientStatus(
  context: PortalContext,
  clientId: string,
  options: StatusReadOptions = {},
): Promise<ClientStatusView | null> {
  return context.gateway.status(clientId, options).catch((error: unknown) => {
    context.logger.error('portal could not read the client status', { error, client: clientId });
    return null;
  });
}

/** Renders a page inside the layout, with the admin, the CSRF token and the kill-switch state. */
export async function renderPage(
  context: PortalContext,
  response: express.Response,
  view: string,
  page: PageModel,
  status = 200,
): Promise<void> {
  const state = stateOf(response);
  let clientStatus: ClientStatusView | null = null;
  if (state.admin) {
    clientStatus = page.clientStatus !== undefined ? page.clientStatus : await readClientStatus(context, state.admin.clientId);
  }
  const session = state.active ?? state.pre;
  const html = eta.render(view, {
    ...page,
    admin: state.admin,
    csrf: session ? context.sessions.csrfToken(session) : null,
    clientStatus,
    path: response.req.path,
    fmt: formatters,
  });
  response.status(status).type('html').send(html);
}
