// A loopback stand-in for the parts of Prometheus's HTTP API an erasure uses: active targets, series,
// and the TSDB admin API (delete_series, clean_tombstones), served only when the admin API is enabled,
// as Prometheus does (503 "admin APIs disabled" otherwise).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmulatedSeries {
  [label: string]: string;
}

export interface PrometheusEmulator {
  url: string;
  series: EmulatedSeries[];
  /** Client ids Prometheus still scrapes; each poll of the targets can drop them (see `onTargetsPoll`). */
  scraped: Set<string>;
  adminApi: boolean;
  /** Each active target's `scrapeInterval` as Prometheus reports it (e.g. `30s`, `1m`). */
  scrapeInterval: string;
  /** Called on every GET of the active targets, e.g. to drop a target after a few polls. */
  onTargetsPoll: (poll: number) => void;
  /** Every request, as `METHOD /path`. */
  requests: string[];
  close(): Promise<void>;
}

/** Two series of each client's agent: a counter of its sends and its `up`. */
export function seriesOf(...clients: string[]): EmulatedSeries[] {
  return clients.flatMap((client) => [
    { __name__: 'agent_emails_sent_total', client, job: 'agents' },
    { __name__: 'up', client, job: 'agents' },
  ]);
}

/** `{client="acme"}` only: the one matcher shape the adapter sends. */
function matcherOf(selector: string | null): { label: string; value: string } | null {
  const match = /^\{(\w+)=("(?:[^"\\]|\\.)*")\}$/.exec(selector ?? '');
  return match?.[1] && match[2] ? { label: match[1], value: JSON.parse(match[2]) as string } : null;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startPrometheusEmulator(initial: { series: EmulatedSeries[]; scraped?: string[]; adminApi?: boolean; scrapeInterval?: string }): Promise<PrometheusEmulator> {
  let polls = 0;
  const emulator: PrometheusEmulator = {
    url: '',
    series: [...initial.series],
    scraped: new Set(initial.scraped ?? []),
    adminApi: initial.adminApi ?? true,
    scrapeInterval: initial.scrapeInterval ?? '30s',
    onTargetsPoll: () => undefined,
    requests: [],
    close: async () => undefined,
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://emulator');
      emulator.requests.push(`${request.method} ${url.pathname}`);
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method === 'GET' && url.pathname === '/api/v1/targets') {
        polls += 1;
        emulator.onTargetsPoll(polls);
        return json(200, { status: 'success', data: { activeTargets: [...emulator.scraped].map((client) => ({ labels: { client, job: 'agents' }, scrapePool: 'agents', scrapeInterval: emulator.scrapeInterval, scrapeTimeout: '10s', health: 'down' })) } });
      }
      if (request.method === 'GET' && url.pathname === '/api/v1/series') {
        const matcher = matcherOf(url.searchParams.get('match[]'));
        if (!matcher) return json(400, { status: 'error', errorType: 'bad_data', error: 'bad matcher' });
        // A series' last sample is its `__at` (ms; absent: long ago), compared with `start` (seconds).
        const startMs = url.searchParams.has('start') ? Number(url.searchParams.get('start')) * 1000 : -Infinity;
        return json(200, { status: 'success', data: emulator.series.filter((series) => series[matcher.label] === matcher.value && Number(series['__at'] ?? 0) >= startMs) });
      }
      if (request.method === 'POST' && url.pathname.startsWith('/api/v1/admin/tsdb/')) {
        if (!emulator.adminApi) return json(503, { status: 'error', errorType: 'unavailable', error: 'admin APIs disabled' });
        if (url.pathname.endsWith('/delete_series')) {
          const matcher = matcherOf(new URLSearchParams(await bodyOf(request)).get('match[]'));
          if (!matcher) return json(400, { status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' });
          emulator.series = emulator.series.filter((series) => series[matcher.label] !== matcher.value);
          // A target still scraped writes its `up` sample again right after.
          for (const client of emulator.scraped) emulator.series.push({ __name__: 'up', client, job: 'agents' });
        }
        response.writeHead(204).end();
        return undefined;
      }
      return json(404, { status: 'error', error: 'not found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  emulator.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  emulator.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return emulator;
}
