import { randomUUID } from 'node:crypto';

/** What a backend handler returns: a JSON body (Vault's envelope) or an empty 204. */
export type VaultResult = { status: 200; body: Record<string, unknown> } | { status: 204 };

export const noContent = (): VaultResult => ({ status: 204 });

function envelope(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth: null,
    mount_type: '',
    ...fields,
  };
}

export function dataResult(data: Record<string, unknown>, extra: Record<string, unknown> = {}): VaultResult {
  return { status: 200, body: envelope({ ...extra, data }) };
}

export function authResult(auth: Record<string, unknown>): VaultResult {
  return { status: 200, body: envelope({ auth }) };
}

export function wrapResult(wrapInfo: Record<string, unknown>): VaultResult {
  return { status: 200, body: envelope({ wrap_info: wrapInfo }) };
}

export const isoTime = (ms: number): string => new Date(ms).toISOString();
