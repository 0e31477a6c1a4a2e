import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Registry } from '../../orchestrator/src/ports/registry.ts';

/** A registry whose `reclaimDeletedRows` fails once: a purge dies right after it deleted the row. */
export function dyingAfterRowDeletion(registry: Registry): Registry {
  let armed = true;
  return new Proxy(registry, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'reclaimDeletedRows' && armed) {
        return () => {
          armed = false;
          return Promise.reject(new FleetError('unavailable', 'cut off after the row was deleted (injected)'));
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
