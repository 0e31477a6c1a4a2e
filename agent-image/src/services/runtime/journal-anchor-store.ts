import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { JOURNAL_ANCHOR_SECRET, encodeAnchorDocument, parseAnchorDocument, type AnchorDocument, type AnchoredHeads } from '@agent-fleet/kernel/journal-anchor';
import type { SecretSource } from '../../ports/secret-source.ts';

/** Reads and writes the anchor through the agent's own secret source (its Vault token, its path). */
export class SecretSourceAnchorStore {
  private readonly source: () => SecretSource;

  /** `source` is asked at every call: a credential rotation replaces the secret source. */
  constructor(source: () => SecretSource) {
    this.source = source;
  }

  /** The document, or null when none was ever written (a new client, or one from before anchoring). */
  async read(): Promise<AnchorDocument | null> {
    const fields = await this.source().readSecretData(JOURNAL_ANCHOR_SECRET);
    if (fields === null) return null;
    const value = fields['value'];
    if (value === undefined) throw new FleetError('integrity', `the journal anchor in Vault (${JOURNAL_ANCHOR_SECRET}) has no value`);
    return parseAnchorDocument(value);
  }

  async write(heads: AnchoredHeads, at: Date): Promise<void> {
    await this.put({ kind: 'heads', heads, at: at.toISOString() });
  }

  /** Writes `document` as it is (a document read before, put back). */
  async put(document: AnchorDocument): Promise<void> {
    await this.source().writeSecret(JOURNAL_ANCHOR_SECRET, encodeAnchorDocument(document));
  }
}
