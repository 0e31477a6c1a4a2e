import { MANIFEST_FILE, README_FILE, SIGNATURE_FILE } from './export-manifest.ts';

export interface ReadmeFile {
  name: string;
  description: string;
  size: number;
}

export interface ReadmeInput {
  clientId: string;
  createdAt: string;
  signingKeyId: string;
  formatVersion: number;
  files: readonly ReadmeFile[];
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll(/[\r\n]+/g, ' ');
}

/** README.md of an export: what every file is, and how to check the archive without our tools. Pure. */
export function renderExportReadme(input: ReadmeInput): string {
  const rows = input.files.map((file) => `| \`${file.name}\` | ${file.size} | ${cell(file.description)} |`);
  return `# Data export for client \`${input.clientId}\`

Created ${input.createdAt} (UTC) by agent-fleet, export format version ${input.formatVersion}. This archive
holds everything the fleet keeps about the client, in standard formats (JSON lines, CSV, JSON, Markdown).

## Files

| File | Bytes | What it holds |
| --- | ---: | --- |
${rows.join('\n')}
| \`${README_FILE}\` | | This description. |
| \`${MANIFEST_FILE}\` | | Every file above with its size and SHA-256 digest, the client id, the creation time, the format version and the id of the signing key. Canonical JSON (sorted keys, no whitespace, no final newline). |
| \`${SIGNATURE_FILE}\` | | Base64 Ed25519 signature of the exact bytes of \`${MANIFEST_FILE}\`, made with the fleet's export key \`${input.signingKeyId}\`. |

## Checking the archive

With the fleet's public export key (ask the operator for \`export-public-key.pem\`; its SHA-256 over the
DER form is the key id above):

    fleet export verify <archive.tar> --public-key export-public-key.pem

Or by hand, after \`tar -xf <archive.tar>\`:

    base64 -d ${SIGNATURE_FILE} > manifest.sig.bin
    openssl pkeyutl -verify -pubin -inkey export-public-key.pem -rawin -in ${MANIFEST_FILE} -sigfile manifest.sig.bin
    sha256sum <file>    # compare with the digest of that file in ${MANIFEST_FILE}

The archive is complete when the signature verifies, every file listed in the manifest is present with
that size and digest, and no other file is present.
`;
}
