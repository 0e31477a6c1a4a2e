// The Graph adapter syncs by following the links Graph hands out (nextLink, deltaLink) and keeps the last
// deltaLink as its cursor. Graph writes those links in its own form, not the one it was asked
// (`mailfolders('inbox')` for `mailFolders/inbox`), and a link is data from the network: it must be this
// inbox's delta on the configured Graph, and paging must end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { isInboxDeltaLink } from '../../../agent-image/src/adapters/graph/graph-delta-link.ts';
import { scriptedGraph } from './scripted-graph.ts';

const ROOT = 'https://graph.microsoft.com/v1.0';

describe('isInboxDeltaLink', () => {
  it('accepts the inbox delta in every form Graph writes it', () => {
    for (const path of [
      "/me/mailfolders('inbox')/messages/delta?$deltatoken=GwcBoTmPuoGNlgXgF1nyUNMXY",
      "/me/mailFolders('Inbox')/messages/delta?$skiptoken=GwcBoTmPKILK4jLH7mAd1lLU",
      '/me/mailFolders/inbox/messages/delta?$deltatoken=abc',
      '/me/mailfolders(%27inbox%27)/messages/delta?%24deltatoken=abc',
      "/me/mailFolders('inbox')/messages/delta?$deltaToken=abc&changeType=created",
      // The folder by its id, as Graph's own examples and answers write it.
      "/me/mailfolders('AQMkADNkNAAAgEMAAAA')/messages/delta?$skiptoken=GwcBoTmPKILK4jLH7mAd1lLU",
      '/me/mailFolders/AAMkAGU4MjE3NDA5LTNmMmMtNDUwYi1iMjk5LTFlNTkzOTE0YTk0NAAuAAAAAADK5iiXu3goQLndw7y_3oX3AQB8LtF36uebRYxyeM34OJD1AAAAAAEMAAA=/messages/delta?$deltatoken=abc',
    ]) {
      assert.equal(isInboxDeltaLink(`${ROOT}${path}`, ROOT), true, path);
    }
  });

  it('refuses another folder, another mailbox, another host or version, and a link without a state token', () => {
    for (const link of [
      `${ROOT}/me/mailFolders('sentitems')/messages/delta?$deltatoken=abc`,
      `${ROOT}/me/mailFolders/drafts/messages/delta?$skiptoken=abc`,
      `${ROOT}/me/mailFolders/recoverableitemsdeletions/messages/delta?$skiptoken=abc`,
      `${ROOT}/users/ceo@client.example/mailFolders('inbox')/messages/delta?$deltatoken=abc`,
      `${ROOT}/me/mailFolders('inbox')/messages?$skiptoken=abc`,
      `${ROOT}/me/mailFolders('inbox')/messages/delta`,
      `${ROOT}/me/mailFolders('inbox')/messages/delta?$select=id`,
      `${ROOT}/me/mailFolders('inbox')/messages/delta/../../../messages?$skiptoken=abc`,
      `https://graph.microsoft.com.evil.example/v1.0/me/mailFolders('inbox')/messages/delta?$deltatoken=abc`,
      `https://graph.microsoft.com/beta/me/mailFolders('inbox')/messages/delta?$deltatoken=abc`,
      `${ROOT}/me/mailFolders('inbox')/messages/delta?$deltatoken=abc#x`,
      `${ROOT}/me/mailFolders(%ZZinbox')/messages/delta?$deltatoken=abc`,
      'not a link',
    ]) {
      assert.equal(isInboxDeltaLink(link, ROOT), false, link);
    }
  });
});

describe('Graph delta paging (scripted Graph)', () => {
  it('keeps syncing on the deltaLink Graph wrote in its own form', async () => {
    const graph = await scriptedGraph(({ url }, base) => {
      const link = (token: string) => `${base}/v1.0/me/mailfolders('inbox')/messages/delta?${token}`;
      if (url.searchParams.has('$deltatoken')) return { status: 200, body: { value: [{ id: 'AAMk-new' }], '@odata.deltaLink': link('$deltatoken=t2') } };
      return { status: 200, body: { value: [{ id: 'AAMk-old' }], '@odata.deltaLink': link('$deltatoken=t1') } };
    });
    try {
      const provider = graph.provider();
      const baseline = await provider.listChangesSince(null);
      const next = await provider.listChangesSince(baseline.nextCursor);
      assert.deepEqual(next.messageIds, ['AAMk-new']);
      assert.match(next.nextCursor, /\$deltatoken=t2$/);
      assert.equal(graph.requests[1]?.url, "/v1.0/me/mailfolders('inbox')/messages/delta?$deltatoken=t1");
    } finally {
      await graph.close();
    }
  });

  it('a nextLink that repeats ends the round at once, with an integrity error', async () => {
    const graph = await scriptedGraph(({ url }, base) => ({
      status: 200,
      body: { value: [{ id: `AAMk-${url.searchParams.get('$skiptoken') ?? 'first'}` }], '@odata.nextLink': `${base}/v1.0/me/mailfolders('inbox')/messages/delta?$skiptoken=same` },
    }));
    try {
      await assert.rejects(graph.provider().listChangesSince(`${graph.base}/v1.0/me/mailfolders('inbox')/messages/delta?$deltatoken=t1`), (error: unknown) => {
        return error instanceof FleetError && error.code === 'integrity' && /repeated/.test(error.message);
      });
      assert.equal(graph.requests.length, 2, 'the cursor, then the nextLink once');
    } finally {
      await graph.close();
    }
  });

  it('a link to another folder of the mailbox is neither followed nor kept as the cursor', async () => {
    for (const kind of ['@odata.nextLink', '@odata.deltaLink']) {
      const graph = await scriptedGraph(({ url }, base) =>
        url.pathname.includes('sentitems')
          ? { status: 200, body: { value: [{ id: 'AAMk-sent' }], '@odata.deltaLink': `${base}/v1.0/me/mailfolders('sentitems')/messages/delta?$deltatoken=s` } }
          : { status: 200, body: { value: [], [kind]: `${base}/v1.0/me/mailfolders('sentitems')/messages/delta?$skiptoken=s` } },
      );
      try {
        await assert.rejects(graph.provider().listChangesSince(null), (error: unknown) => error instanceof FleetError && error.code === 'integrity', kind);
        assert.equal(graph.requests.filter((request) => request.url.includes('sentitems')).length, 0, kind);
      } finally {
        await graph.close();
      }
    }
  });

  it('a link to another host is refused before anything is sent there', async () => {
    const elsewhere = await scriptedGraph(() => ({ status: 200, body: { value: [{ id: 'AAMk-planted' }], '@odata.deltaLink': 'x' } }));
    const graph = await scriptedGraph(() => ({
      status: 200,
      body: { value: [], '@odata.nextLink': `${elsewhere.base}/v1.0/me/mailfolders('inbox')/messages/delta?$skiptoken=p` },
    }));
    try {
      await assert.rejects(graph.provider().listChangesSince(null), (error: unknown) => error instanceof FleetError && error.code === 'integrity');
      assert.equal(elsewhere.requests.length, 0);
    } finally {
      await graph.close();
      await elsewhere.close();
    }
  });
});
