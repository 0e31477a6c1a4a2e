/**
 * The inbox's delta links as Graph writes them. Graph does not echo the path it was asked: a round
 * begun at `/me/mailFolders/inbox/messages/delta` hands out links to `/me/mailfolders('inbox')/messages/delta`
 * (the folder as an OData key, in its own case, the quotes possibly percent-encoded), and links that name
 * the folder by its opaque id (`/me/mailFolders/AAMkAGU4…AAA=/messages/delta` in Graph's own examples).
 * These forms are the delta of this mailbox's folder; a link to another well-known folder (`sentitems`:
 * well-known names are lower-case words, ids opaque keys with capitals or digits) or another mailbox is not, even on the Graph
 * host, and is never followed or kept as the cursor. Pure.
 */

const DELTA_PATH = /^\/me\/mailfolders(?:\/([^/()']+)|\('([^/()']+)'\))\/messages\/delta$/i;
/** A folder id: opaque base64 (`AAMkAGU4…AAA=`). Well-known names (`sentitems`, `recoverableitemsdeletions`) are lower-case words. */
const FOLDER_ID = /^(?=.*[A-Z0-9])[A-Za-z0-9+/=_-]{8,512}$/;
const STATE_TOKENS = ['$deltatoken', '$skiptoken'];

/** True when `link` is a delta link (deltaLink or nextLink) of the inbox under `root` (`https://graph.microsoft.com/v1.0`). */
export function isInboxDeltaLink(link: string, root: string): boolean {
  if (!link.startsWith(`${root}/`)) return false;
  let url: URL;
  let path: string;
  try {
    url = new URL(link);
    path = decodeURIComponent(url.pathname.slice(new URL(root).pathname.length));
  } catch {
    return false;
  }
  const key = DELTA_PATH.exec(path)?.slice(1).find((part) => part !== undefined);
  if (url.hash !== '' || key === undefined || (key.toLowerCase() !== 'inbox' && !FOLDER_ID.test(key))) return false;
  return [...url.searchParams.keys()].some((name) => STATE_TOKENS.includes(name.toLowerCase()));
}
