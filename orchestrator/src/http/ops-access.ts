/**
 * What each ops API route asks of its caller (paths below `/v1`). Pure, so the table is unit-tested.
 *
 * - public: sign-in and enrolment, where the code itself is the credential;
 * - read: reads without client content (statuses, counts, the ops log): the owner-only socket, a member's
 *   session, or the TCP API's read-only admin token;
 * - member: every change: a member's session; the member is the actor the ops log records;
 * - fresh: client data (an audit export, a complete export, incident evidence): a session whose member
 *   entered a code within the last 15 minutes;
 * - grant-read: a read that shows client content only under the member's support grant (approval drafts,
 *   the doctor's marker scan): fresh when the member holds an active grant of that client, else member;
 * - bootstrap: adding a team member: fresh, or, on the socket while the team is empty, no session at all.
 */
export type OpsAccess = 'public' | 'read' | 'member' | 'fresh' | 'grant-read' | 'bootstrap';

export interface OpsRoute {
  access: OpsAccess;
  /** The route reads its actor from the query string (GET routes acting as the member). */
  actorInQuery: boolean;
  /** The client the route is about, when its path names one. */
  clientId: string | null;
}

type Rule = { method: string; pattern: RegExp; access: OpsAccess; actorInQuery?: boolean };

const CLIENT = '/clients/([^/]+)';

const RULES: readonly Rule[] = [
  { method: 'POST', pattern: /^\/sessions$/, access: 'public' },
  { method: 'POST', pattern: /^\/team\/enrol$/, access: 'public' },
  { method: 'POST', pattern: /^\/team\/members$/, access: 'bootstrap' },
  { method: 'POST', pattern: /^\/team\/members\/[^/]+\/(remove|reissue)$/, access: 'fresh' },
  { method: 'GET', pattern: new RegExp(`^${CLIENT}/audit/export$`), access: 'fresh', actorInQuery: true },
  // Accepting a break in the audit trail's anchor (or a volume the agent refused): as deliberate as reading client data.
  { method: 'POST', pattern: new RegExp(`^${CLIENT}/audit/(reanchor|accept-volume)$`), access: 'fresh' },
  { method: 'GET', pattern: new RegExp(`^${CLIENT}/export$`), access: 'fresh', actorInQuery: true },
  { method: 'GET', pattern: new RegExp(`^${CLIENT}/approvals$`), access: 'grant-read', actorInQuery: true },
  { method: 'POST', pattern: new RegExp(`^${CLIENT}/doctor$`), access: 'grant-read' },
  { method: 'POST', pattern: /^\/incidents\/[^/]+\/evidence$/, access: 'fresh' },
  { method: 'GET', pattern: /^\/incidents\/[^/]+\/evidence\/[^/]+$/, access: 'fresh', actorInQuery: true },
  { method: 'GET', pattern: /^\/sessions\/current$/, access: 'member' },
];

/**
 * The request as the routers match it: express routes ignore case and one trailing slash, and answer HEAD
 * with the GET route. The rules must see the same route, or `/Clients/acme/Export/` would be a plain read
 * that runs the export.
 */
function routed(method: string, path: string): { method: string; path: string } {
  const upper = method.toUpperCase();
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return { method: upper === 'HEAD' ? 'GET' : upper, path: (trimmed === '' ? '/' : trimmed).toLowerCase() };
}

/** The access rule of one request; a path not in the table is `read` for GET and HEAD, `member` otherwise. */
export function opsAccessOf(method: string, path: string): OpsRoute {
  const request = routed(method, path);
  const clientId = decoded(new RegExp(`^${CLIENT}(?:/|$)`, 'i').exec(path)?.[1]);
  const rule = RULES.find(
    (candidate) => candidate.method === request.method && candidate.pattern.test(request.path),
  );
  if (rule) return { access: rule.access, actorInQuery: rule.actorInQuery === true, clientId };
  return { access: request.method === 'GET' ? 'read' : 'member', actorInQuery: false, clientId };
}

function decoded(segment: string | undefined): string | null {
  if (segment === undefined) return null;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
