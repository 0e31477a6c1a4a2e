import { FleetError } from './fleet-error.ts';

/**
 * Bullhorn's data centers (their "swimlanes"), each with its own OAuth and REST hosts (Bullhorn's published
 * data-center URLs). A client on the wrong one gets 307 redirects on login; naming it saves the round trip.
 * The orchestrator's consent and the agent's CRM adapter both reach them.
 */
export const BULLHORN_DATA_CENTERS = ['east', 'west', 'west50', 'emea', 'ger', 'bhnext', 'west9'] as const;
export type BullhornDataCenter = (typeof BULLHORN_DATA_CENTERS)[number];

/** A data center's name as given (`--data-center`); FleetError `invalid_input` for an unknown one. */
export function parseBullhornDataCenter(value: string): BullhornDataCenter {
  if (!(BULLHORN_DATA_CENTERS as readonly string[]).includes(value)) {
    throw new FleetError('invalid_input', `the Bullhorn data center must be one of ${BULLHORN_DATA_CENTERS.join(', ')}`);
  }
  return value as BullhornDataCenter;
}

export interface BullhornEndpoints {
  /** OAuth server root: `/oauth/authorize` and `/oauth/token` live under it. */
  authUrl: string;
  /** REST login: `?version=*&access_token=…` answers with the BhRestToken and the restUrl. */
  loginUrl: string;
}

/** The OAuth and login endpoints of a data center. */
export function bullhornEndpoints(dataCenter: BullhornDataCenter = 'east'): BullhornEndpoints {
  const suffix = dataCenter === 'east' ? '' : dataCenter === 'bhnext' ? '9' : `-${dataCenter}`;
  return {
    authUrl: `https://auth${suffix}.bullhornstaffing.com`,
    loginUrl: `https://rest${suffix}.bullhornstaffing.com/rest-services/login`,
  };
}
