import * as z from 'zod';
import { BULLHORN_DATA_CENTERS } from '@agent-fleet/kernel/bullhorn-data-centers';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * The client's own Bullhorn OAuth client and the refresh token from its consent, stored as the JSON
 * secret `bullhorn`. Bullhorn has no OAuth scopes: what the agent may do is bounded by the API user's
 * entitlements in Bullhorn and, on our side, by the `crm.read` / `crm.write` capabilities and the gate.
 */
export const BULLHORN_SECRET = 'bullhorn';

const bullhornSecret = z.object({
  client_id: z.string().min(1).max(1000),
  client_secret: z.string().min(1).max(1000),
  refresh_token: z.string().min(1).max(8192),
  /** Default `east` (auth.bullhornstaffing.com, rest.bullhornstaffing.com). */
  data_center: z.enum(BULLHORN_DATA_CENTERS).optional(),
});
export type BullhornSecret = z.infer<typeof bullhornSecret>;

/** Parses the `bullhorn` secret; the message names the fields, never their values. */
export function parseBullhornSecret(raw: string): BullhornSecret {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new FleetError('invalid_input', 'secret "bullhorn" must be JSON with client_id, client_secret and refresh_token');
  }
  const parsed = bullhornSecret.safeParse(value);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))].join(', ');
    throw new FleetError('invalid_input', `secret "bullhorn" is invalid (${fields}): needs client_id, client_secret, refresh_token, optional data_center`);
  }
  return parsed.data;
}

/** The secret with a rotated refresh token, as written back to the secret store. */
export function withRotatedRefreshToken(secret: BullhornSecret, refreshToken: string): string {
  return JSON.stringify({ ...secret, refresh_token: refreshToken });
}

