import type { Response } from 'express';

/** Resolves once the response takes more (true), or once it is gone (false): a client that left ends the read. */
async function drained(response: Response): Promise<boolean> {
  if (response.destroyed) return false;
  await new Promise<void>((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
  return !response.destroyed;
}

/**
 * `{ "entries": [...] }`, written a page at a time as the pages are read, at the reader's pace. A failure
 * before the first page is the usual JSON error; once bytes went out the response is cut (a cut-off body is
 * not JSON), never a shorter list that would read as the whole log.
 */
export async function sendEntryPages(response: Response, pages: AsyncIterable<readonly unknown[]>): Promise<void> {
  let started = false;
  try {
    for await (const page of pages) {
      if (page.length === 0) continue;
      const items = page.map((entry) => JSON.stringify(entry)).join(',');
      if (!started) response.type('application/json');
      const more = response.write(started ? `,${items}` : `{"entries":[${items}`);
      started = true;
      if (!more && !(await drained(response))) return;
    }
  } catch (error) {
    if (!started) throw error;
    response.destroy(error as Error);
    return;
  }
  if (started) response.end(']}');
  else response.json({ entries: [] });
}
