import type { ClientId } from '@agent-fleet/kernel/client-id';

/**
 * The egress proxies as the services that change a client's standing see them. The proxies decide each
 * CONNECT when it comes, but a tunnel already open outlives a change: these end what is no longer allowed.
 */
export interface EgressTunnels {
  /**
   * Cuts every tunnel of the client at once, open or still being opened (a kill: call it once the registry
   * says killed, so that no CONNECT decided after it opens one either). Returns how many were cut.
   */
  closeTunnels(clientId: ClientId): number;
  /**
   * Reads the client from the registry again and cuts its tunnels that its status or its allow-list no
   * longer admits (a config change that narrowed the list). Returns how many were cut.
   */
  recheck(clientId: ClientId): Promise<number>;
}
