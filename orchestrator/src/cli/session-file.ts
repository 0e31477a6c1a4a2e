import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomically } from '@agent-fleet/kernel/atomic-file';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** What `fleet login` keeps for the next commands: the member and their session token. */
export interface CliSession {
  member: string;
  token: string;
  expiresAt: string;
}

/** `<fleet home>/session.json`, owner-only (0600) in the owner-only fleet home. */
export function sessionFile(homeDir: string): string {
  return path.join(homeDir, 'session.json');
}

/** The stored session, or null when nobody signed in here; a file others can read is refused, not used. */
export async function readCliSession(homeDir: string): Promise<CliSession | null> {
  const file = sessionFile(homeDir);
  let text: string;
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) {
      throw new FleetError(
        'forbidden',
        `${file} is readable by others (mode ${(info.mode & 0o777).toString(8)}): delete it and sign in again (fleet login)`,
      );
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let session: Partial<CliSession> | null = null;
  try {
    session = JSON.parse(text) as Partial<CliSession> | null;
  } catch {
    // Handled below with the other shapes that are not a session.
  }
  if (
    typeof session !== 'object' ||
    session === null ||
    typeof session.member !== 'string' ||
    typeof session.token !== 'string' ||
    typeof session.expiresAt !== 'string'
  ) {
    throw new FleetError(
      'invalid_input',
      `${file} is not a session file: delete it and sign in again (fleet login)`,
    );
  }
  return { member: session.member, token: session.token, expiresAt: session.expiresAt };
}

export async function writeCliSession(homeDir: string, session: CliSession): Promise<void> {
  await writeFileAtomically(sessionFile(homeDir), `${JSON.stringify(session)}\n`, { mode: 0o600 });
}

export async function removeCliSession(homeDir: string): Promise<void> {
  await rm(sessionFile(homeDir), { force: true });
}
