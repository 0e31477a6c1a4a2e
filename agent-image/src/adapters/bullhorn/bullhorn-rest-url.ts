import { isIP } from 'node:net';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * The `restUrl` a login answered, checked before any BhRestToken goes there: the token opens the client's
 * whole CRM, so it is only ever sent to Bullhorn itself. Bullhorn answers a swimlane host beside the login
 * host (login at rest.bullhornstaffing.com, REST at rest91.bullhornstaffing.com), over https, with no user
 * info, query or fragment. A login host that is an IP address or has no parent domain (a test emulator on
 * loopback) admits only itself; plain http only where the login itself is plain http. Returns the URL
 * with a trailing slash; FleetError `integrity` for anything else. Pure.
 */
export function checkedRestUrl(restUrl: string, loginUrl: string): string {
  const login = new URL(loginUrl);
  let url: URL;
  try {
    url = new URL(restUrl);
  } catch {
    throw new FleetError('integrity', 'bullhorn login answered a restUrl that is not a URL');
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && login.protocol === 'http:');
  if (!secure) throw new FleetError('integrity', 'bullhorn login answered a restUrl without https: no session token is sent there');
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new FleetError('integrity', 'bullhorn login answered a restUrl with user info, a query or a fragment');
  }
  if (!sameService(url, login)) {
    throw new FleetError('integrity', `bullhorn login answered a restUrl on another host (${url.hostname.slice(0, 100)}): no session token is sent there`);
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** The login host itself, or a host under the login host's parent domain (same port). */
function sameService(url: URL, login: URL): boolean {
  if (url.port !== login.port) return false;
  if (url.hostname === login.hostname) return true;
  const labels = login.hostname.split('.');
  if (isIP(login.hostname.replace(/^\[|\]$/g, '')) !== 0 || labels.length < 3) return false;
  return url.hostname.endsWith(`.${labels.slice(1).join('.')}`);
}
