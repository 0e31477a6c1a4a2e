import { isIP } from 'node:net';
import * as z from 'zod';

// The host-name and listener-address rules shared by the orchestrator's environment schema (config.ts, config-portal.ts).

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An IPv4 or IPv6 address (without brackets) or a host name of DNS labels; all digits and dots is an address or nothing. */
export function isHostNameOrIpAddress(host: string): boolean {
  return IPV4.test(host) || isIP(host) === 6 || (HOST_NAME.test(host) && !/^[\d.]+$/.test(host));
}

/**
 * A listener address: an IPv4 or IPv6 address (without brackets) or a host name. Anything else (`' '`,
 * `http://0.0.0.0`, `[::1]`) was accepted and failed only at listen, with a resolver error naming no setting.
 */
export const listenHost = z.string().refine(isHostNameOrIpAddress, 'must be an IP address (such as 127.0.0.1 or ::1, no brackets) or a host name');
