import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { ProvisionResult } from '../../services/provision-client.ts';
import { GUARD_RAIL_ID, MAX_GUARD_RAIL_CONFIRMATIONS, MAX_GUARD_RAIL_ID } from '../../services/provision-guard-rails.ts';

/**
 * `fleet provision --confirm <rail...>` (repeatable): each a guard-rail id, each once, checked before the
 * service is reached (or started), so a mistyped id is refused by the option's name.
 */
export function provisionConfirmations(values: readonly string[] | undefined): string[] {
  const rails = [...new Set(values ?? [])];
  for (const rail of rails) {
    if (rail.length > MAX_GUARD_RAIL_ID || !GUARD_RAIL_ID.test(rail)) {
      throw new FleetError('invalid_input', `--confirm: ${JSON.stringify(rail.slice(0, MAX_GUARD_RAIL_ID))} is not a guard-rail id (such as permissions.mail.send or rateLimits.perHour)`);
    }
  }
  if (rails.length > MAX_GUARD_RAIL_CONFIRMATIONS) {
    throw new FleetError('invalid_input', `--confirm: at most ${MAX_GUARD_RAIL_CONFIRMATIONS} guard rails (got ${rails.length})`);
  }
  return rails;
}

/**
 * The lines `fleet provision` adds about guard rails: the ones confirmed and recorded, and each crossed one
 * nobody confirmed (the doctor fails it) with how to confirm it later. Empty when the config crosses none.
 */
export function formatProvisionGuardRails(result: ProvisionResult): string[] {
  if (result.outcome !== 'provisioned' || result.guardRails === undefined) return [];
  const { confirmed, unconfirmed } = result.guardRails;
  const lines: string[] = [];
  if (confirmed.length > 0) lines.push(`  confirmed: ${confirmed.join(', ')} (recorded in the ops log)`);
  if (unconfirmed.length === 0) return lines;
  lines.push(`  NOT confirmed (beyond the safe defaults; \`fleet doctor ${result.clientId}\` fails the items that check them):`);
  for (const rail of unconfirmed) lines.push(`    ${rail.id} (${rail.field}): ${rail.risk}`);
  lines.push(`  to confirm later: ${unconfirmed.map((rail) => `fleet config confirm ${result.clientId} ${rail.id} --reason "…"`).join('; ')}`);
  return lines;
}
