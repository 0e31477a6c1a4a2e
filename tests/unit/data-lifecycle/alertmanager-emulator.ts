// A loopback stand-in for the part of Alertmanager's API v2 an erasure uses, as Alertmanager answers it:
// GET /api/v2/silences?filter=<matcher> lists the silences whose equality matchers match every filter (a
// regex matcher of a silence is not a label it can be found by), DELETE /api/v2/silence/{id} expires one
// (200), 404 for an unknown id, 500 for one already expired. Nothing is ever removed: expired silences stay.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmulatedSilence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' };
  matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual: boolean }>;
  createdBy: string;
  comment: string;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
}

export interface AlertmanagerEmulator {
  url: string;
  silences: EmulatedSilence[];
  /** Every request, as `METHOD /path`. */
  requests: string[];
  close(): Promise<void>;
}

export function silence(id: string, matchers: Array<[name: string, value: string, isRegex?: boolean]>, state: EmulatedSilence['status']['state'] = 'active'): EmulatedSilence {
  return {
    id,
    status: { state },
    matchers: matchers.map(([name, value, isRegex]) => ({ name, value, isRegex: isRegex ?? false, isEqual: true })),
    createdBy: 'ops',
    comment: 'maintenance',
    startsAt: '2026-12-01T00:00:00.000Z',
    endsAt: '2026-12-31T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
  };
}

/** `name="value"` only (Alertmanager accepts more; the adapter sends this). */
function filterOf(text: string): { name: string; value: string } | null {
  const match = /^(\w+)=("(?:[^"\\]|\\.)*")$/.exec(text);
  return match?.[1] && match[2] ? { name: match[1], value: JSON.parse(match[2]) as string } : null;
}

export async function startAlertmanagerEmulator(silences: EmulatedSilence[]): Promise<AlertmanagerEmulator> {
  const emulator: AlertmanagerEmulator = { url: '', silences, requests: [], close: async () => undefined };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://emulator');
    emulator.requests.push(`${request.method} ${url.pathname}`);
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'GET' && url.pathname === '/api/v2/silences') {
      const filters = url.searchParams.getAll('filter').map(filterOf);
      if (filters.some((filter) => filter === null)) return json(400, 'bad matcher format');
      const listed = emulator.silences.filter((each) => {
        const labels = new Map(each.matchers.filter((matcher) => !matcher.isRegex && matcher.isEqual).map((matcher) => [matcher.name, matcher.value]));
        return filters.every((filter) => filter !== null && labels.get(filter.name) === filter.value);
      });
      return json(200, listed);
    }
    const expiring = /^\/api\/v2\/silence\/([^/]+)$/.exec(url.pathname);
    if (request.method === 'DELETE' && expiring?.[1]) {
      const found = emulator.silences.find((each) => each.id === decodeURIComponent(expiring[1] ?? ''));
      if (!found) return json(404, `silence not found`);
      if (found.status.state === 'expired') return json(500, `silence ${found.id} already expired`);
      found.status.state = 'expired';
      return json(200, {});
    }
    return json(404, 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  emulator.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  emulator.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return emulator;
}
