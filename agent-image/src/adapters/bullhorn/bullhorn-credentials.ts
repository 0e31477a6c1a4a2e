import { z } from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * The client's own Bullhorn OAuth client and the refresh token from its consent, stored as the JSON
 * secret `bullhorn`. Bullhorn has no OAuth scopes: what the agent may do is bounded by the API user's
 * entitlements in Bullhorn and, on our side, by the `crm.read` / `crm.write` capabilities and the gate.
 */
export const BULLHORN_SECRET = 'bullhorn';

/**
 * Bullhorn's data centers (their "swimlanes"), each with its own OAuth and REST hosts. A client on the
 * wrong one gets 307 redirects on login; naming it in the secret saves the round trip.
 */
export const BULLHORN_DATA_CENTERS = ['east', 'west', 'west50', 'emea', 'ger', 'bhnext', 'west9'] as const;
export type BullhornDataCenter = (typeof BULLHORN_DATA_CENTERS)[number];

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

export interface BullhornEndpoints {
  /** OAuth server root: `/oauth/authorize` and `/oauth/token` live under it. */
  authUrl: string;
  /** REST login: `?version=*&access_token=…` answers with the BhRestToken and the restUrl. */
  loginUrl: string;
}

/** The OAuth and login endpoints of a data center (Bullhorn's published data-center URLs). */
export function bullhornEndpoints(dataCenter: BullhornDataCenter = 'east'): BullhornEndpoints {
  const suffix = dataCenter === 'east' ? '' : dataCenter === 'bhnext' ? '9' : `-${dataCenter}`;
  return {
    authUrl: `https://auth${suffix}.bullhornstaffing.com`,
    loginUrl: `https://rest${suffix}.bullhornstaffing.com/rest-services/login`,
  };
}
