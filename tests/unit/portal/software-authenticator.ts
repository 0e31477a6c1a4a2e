// A software passkey (ES256) that answers the portal's WebAuthn options as a browser and platform
// authenticator would, so that unit tests drive registration and sign-in through the real verification.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

const USER_PRESENT = 0x01;
const USER_VERIFIED = 0x04;
const ATTESTED_DATA = 0x40;

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest();

function counterBytes(counter: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(counter);
  return bytes;
}

/** What a ceremony may change from an honest authenticator's answer, to probe the verification. */
export interface Tampering {
  origin?: string;
  rpId?: string;
  userVerified?: boolean;
  counter?: number;
}

export class SoftwareAuthenticator {
  readonly credentialId: Buffer;
  /** The signature counter it reports next (it adds one per assertion). */
  counter: number;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor(options: { counter?: number; credentialId?: Buffer } = {}) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.credentialId = options.credentialId ?? randomBytes(16);
    this.counter = options.counter ?? 0;
  }

  /** The same key and id: a cloned authenticator, with its own counter. */
  clone(): SoftwareAuthenticator {
    const copy = Object.create(SoftwareAuthenticator.prototype) as SoftwareAuthenticator;
    Object.assign(copy, this);
    return copy;
  }

  register(
    options: PublicKeyCredentialCreationOptionsJSON,
    origin: string,
    tampering: Tampering = {},
  ): RegistrationResponseJSON {
    const jwk = this.publicKey.export({ format: 'jwk' });
    const cose = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x ?? '', 'base64url')],
      [-3, Buffer.from(jwk.y ?? '', 'base64url')],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      sha256(tampering.rpId ?? options.rp.id ?? ''),
      Buffer.from([this.flags(tampering) | ATTESTED_DATA]),
      counterBytes(tampering.counter ?? this.counter),
      Buffer.alloc(16),
      idLength,
      this.credentialId,
      Buffer.from(isoCBOR.encode(cose)),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, never>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, never>()],
        ['authData', authData],
      ]),
    );
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, tampering.origin ?? origin);
    return {
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
    };
  }

  assert(
    options: PublicKeyCredentialRequestOptionsJSON,
    origin: string,
    tampering: Tampering = {},
  ): AuthenticationResponseJSON {
    this.counter += 1;
    const authData = Buffer.concat([
      sha256(tampering.rpId ?? options.rpId ?? ''),
      Buffer.from([this.flags(tampering)]),
      counterBytes(tampering.counter ?? this.counter),
    ]);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, tampering.origin ?? origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), this.privateKey);
    return {
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
      },
      clientExtensionResults: {},
    };
  }

  private flags(tampering: Tampering): number {
    return USER_PRESENT | (tampering.userVerified === false ? 0 : USER_VERIFIED);
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
  }
}
