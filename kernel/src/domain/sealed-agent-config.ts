import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { parseClientId, type ClientId } from './client-id.ts';
import { FleetError } from './fleet-error.ts';

/**
 * Docker: the client's config document as it lies in the agent's volume, sealed (AES-256-GCM) under a key
 * that exists only in the agent's TLS handover (Vault), never at rest beside it. The orchestrator seals it
 * anew at every start with a fresh key; the agent opens it with the key its handover unwrapped. The client
 * id is in the clear (the agent needs it to check the handover it redeems) and bound to the ciphertext.
 */
export const AGENT_SEALED_CONFIG_FILE = 'config.sealed';
/** The field of the agent's TLS secret (`fleet/data/<id>/tls/agent`) that holds the key, base64. */
export const AGENT_CONFIG_KEY_FIELD = 'config_key';

const FORMAT = 'agent-fleet/sealed-config/1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Larger than any config the orchestrator accepts (1 MiB), sealed and base64'd. */
const MAX_SEALED_BYTES = 2 * 1024 * 1024;

interface Envelope {
  format: typeof FORMAT;
  client: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** A fresh key for one start, base64. */
export function newAgentConfigKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function keyBytes(keyBase64: string): Buffer {
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== keyBase64) {
    throw new FleetError('integrity', 'the config key of the handover is not a 256-bit key');
  }
  return key;
}

function additionalData(clientId: string): Buffer {
  return Buffer.from(`${FORMAT}\n${clientId}`, 'utf8');
}

export function sealAgentConfig(document: string, clientId: ClientId, keyBase64: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyBytes(keyBase64), iv);
  cipher.setAAD(additionalData(clientId));
  const ciphertext = Buffer.concat([cipher.update(document, 'utf8'), cipher.final()]);
  const envelope: Envelope = {
    format: FORMAT,
    client: clientId,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
  return `${JSON.stringify(envelope)}\n`;
}

function parseEnvelope(text: string): Envelope {
  if (Buffer.byteLength(text) > MAX_SEALED_BYTES) throw new FleetError('integrity', 'the sealed config is larger than 2 MiB');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FleetError('integrity', 'the sealed config is not a sealed config (not JSON)');
  }
  const fields = parsed as Partial<Record<keyof Envelope, unknown>> | null;
  if (
    fields?.format !== FORMAT ||
    typeof fields.client !== 'string' ||
    typeof fields.iv !== 'string' ||
    typeof fields.tag !== 'string' ||
    typeof fields.ciphertext !== 'string'
  ) {
    throw new FleetError('integrity', `the sealed config is not in the ${FORMAT} format`);
  }
  return fields as Envelope;
}

/** The client the sealed config says it is for (checked again when it is opened). */
export function sealedAgentConfigClient(text: string): ClientId {
  const { client } = parseEnvelope(text);
  try {
    return parseClientId(client);
  } catch (error) {
    throw new FleetError('integrity', 'the sealed config names no valid client', { cause: error });
  }
}

/** The config document, or `integrity` when it was not sealed for this client under this key, or was altered. */
export function openAgentConfig(text: string, clientId: ClientId, keyBase64: string): string {
  const envelope = parseEnvelope(text);
  if (envelope.client !== clientId) throw new FleetError('integrity', `the sealed config is for ${JSON.stringify(envelope.client)}, not ${clientId}`);
  const iv = Buffer.from(envelope.iv, 'base64');
  const tag = Buffer.from(envelope.tag, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new FleetError('integrity', 'the sealed config has a malformed nonce or tag');
  const decipher = createDecipheriv('aes-256-gcm', keyBytes(keyBase64), iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(clientId));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(Buffer.from(envelope.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new FleetError('integrity', 'the sealed config does not open under the key of this start (altered, or sealed for another start)', { cause: error });
  }
}
