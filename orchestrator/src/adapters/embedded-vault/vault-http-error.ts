/** An error answered to the client exactly as Vault does: a status and `{"errors":[...]}`. */
export class VaultHttpError extends Error {
  readonly status: number;
  readonly errors: string[];

  constructor(status: number, errors: string[] | string) {
    const list = typeof errors === 'string' ? [errors] : errors;
    super(list[0] ?? `status ${status}`);
    this.name = 'VaultHttpError';
    this.status = status;
    this.errors = list;
  }
}

export const permissionDenied = (): VaultHttpError => new VaultHttpError(403, 'permission denied');
export const badRequest = (message: string): VaultHttpError => new VaultHttpError(400, message);
/** Vault answers a missing KV secret or transit key with 404 and an empty error list. */
export const notFound = (): VaultHttpError => new VaultHttpError(404, []);
export const unsupportedPath = (): VaultHttpError => new VaultHttpError(404, 'unsupported path');
export const unsupportedOperation = (): VaultHttpError => new VaultHttpError(405, 'unsupported operation');
