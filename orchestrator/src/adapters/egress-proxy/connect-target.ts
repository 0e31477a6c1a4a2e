import { isIP } from 'node:net';
import { normaliseEgressHost } from '../../domain/egress-allow-list.ts';

/** The authority of a CONNECT request: where the client asks to be tunnelled to. */
export interface ConnectTarget {
  host: string;
  port: number;
}

/**
 * Parses a CONNECT request target (RFC 9110 authority-form): `host:port` or `[v6]:port`, the port
 * required. Returns null for anything else (a path, a URL, a missing or zero port, a bad name), so the
 * proxy answers 400 without guessing.
 */
export function parseConnectTarget(authority: string): ConnectTarget | null {
  if (authority.length > 300) return null;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(authority);
  if (!match) return null;
  const port = Number(match[3]);
  const host = normaliseEgressHost(match[1] ?? match[2] ?? '');
  if (host === null || port < 1 || port > 65_535) return null;
  // Brackets only around IPv6 as written (the pattern keeps an unbracketed host free of colons).
  if (match[1] !== undefined && isIP(match[1]) !== 6) return null;
  return { host, port };
}
