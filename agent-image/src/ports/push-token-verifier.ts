/**
 * Checks the signed token a provider's push notification carries (a Gmail push's OIDC token, in its
 * `Authorization` header): resolves when the push is the configured sender's. Rejects FleetError
 * `unauthorized` when none is presented, `forbidden` for anything else wrong, any other error when it
 * cannot be checked now (the signing keys out of reach).
 */
export interface PushTokenVerifier {
  verify(authorization: string | null | undefined): Promise<void>;
}
