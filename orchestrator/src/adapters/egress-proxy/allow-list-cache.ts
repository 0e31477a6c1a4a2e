import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { EgressAllowList } from '../../domain/egress-allow-list.ts';

/**
 * Each served client's allow-list, parsed from its config once per config version rather than at every
 * CONNECT. One entry per client, dropped when the client's last listener goes (or passes to another
 * client), so it holds the clients served now, not every client ever seen.
 */
export class AllowListCache {
  readonly #entries = new Map<ClientId, { yaml: string; list: EgressAllowList }>();

  /** The list of `clientId` for `configYaml`: the cached one when the config is unchanged, else `build`'s. */
  listFor(clientId: ClientId, configYaml: string, build: () => EgressAllowList): EgressAllowList {
    const cached = this.#entries.get(clientId);
    if (cached?.yaml === configYaml) return cached.list;
    const list = build();
    this.#entries.set(clientId, { yaml: configYaml, list });
    return list;
  }

  forget(clientId: ClientId): void {
    this.#entries.delete(clientId);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** The clients with a cached list. */
  clients(): ClientId[] {
    return [...this.#entries.keys()];
  }
}
