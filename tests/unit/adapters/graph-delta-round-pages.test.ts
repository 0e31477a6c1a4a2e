// A round of changes reads a bounded number of delta pages: a large change (thousands of messages moved
// into the inbox) or a server that keeps answering nextLinks must not keep one round paging, and its ids
// growing, without end. The round stops at a page's end with the nextLink as its cursor, and the next
// round resumes there: no id is lost or read twice. A baseline cannot stop so (its nextLink would list
// the whole inbox as new): it still pages to its deltaLink.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DELTA_PAGES_PER_ROUND } from '../../../agent-image/src/adapters/graph/graph-mail-provider.ts';
import { scriptedGraph } from './scripted-graph.ts';

/** Pages of one change each; the last one carries the deltaLink. */
const PAGES = DELTA_PAGES_PER_ROUND * 2 + 5;

describe('Graph delta rounds are bounded in pages', () => {
  it('a round stops after its page bound on a nextLink, and the next round resumes there', async () => {
    const graph = await scriptedGraph(({ url }, base) => {
      const link = (token: string) => `${base}/v1.0/me/mailfolders('inbox')/messages/delta?${token}`;
      const page = Number(url.searchParams.get('$skiptoken') ?? '0');
      const body: Record<string, unknown> = { value: [{ id: `AAMk-${page}` }] };
      if (page + 1 < PAGES) body['@odata.nextLink'] = link(`$skiptoken=${page + 1}`);
      else body['@odata.deltaLink'] = link('$deltatoken=end');
      return { status: 200, body };
    });
    try {
      const provider = graph.provider();
      const ids: string[] = [];
      let cursor = `${graph.base}/v1.0/me/mailfolders('inbox')/messages/delta?$deltatoken=start`;
      const rounds: number[] = [];
      while (!cursor.endsWith('$deltatoken=end')) {
        const before = graph.requests.length;
        const changes = await provider.listChangesSince(cursor);
        rounds.push(graph.requests.length - before);
        ids.push(...changes.messageIds);
        assert.equal(changes.fullResync, false);
        cursor = changes.nextCursor;
        assert.ok(rounds.length <= 10, 'the rounds end');
      }
      assert.deepEqual(rounds, [DELTA_PAGES_PER_ROUND, DELTA_PAGES_PER_ROUND, 5]);
      assert.deepEqual(ids, Array.from({ length: PAGES }, (_, page) => `AAMk-${page}`));
    } finally {
      await graph.close();
    }
  });

  it('a baseline still pages to its deltaLink and lists nothing as new', async () => {
    const graph = await scriptedGraph(({ url }, base) => {
      const link = (token: string) => `${base}/v1.0/me/mailfolders('inbox')/messages/delta?${token}`;
      const page = Number(url.searchParams.get('$skiptoken') ?? '0');
      const body: Record<string, unknown> = { value: [{ id: `AAMk-old-${page}` }] };
      if (page + 1 < PAGES) body['@odata.nextLink'] = link(`$skiptoken=${page + 1}`);
      else body['@odata.deltaLink'] = link('$deltatoken=end');
      return { status: 200, body };
    });
    try {
      const baseline = await graph.provider().listChangesSince(null);
      assert.deepEqual(baseline.messageIds, []);
      assert.match(baseline.nextCursor, /\$deltatoken=end$/);
      assert.equal(graph.requests.length, PAGES);
    } finally {
      await graph.close();
    }
  });
});
