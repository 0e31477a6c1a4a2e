import { constants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
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

/** A session file is a few hundred bytes; anything much larger is not one. */
const MAX_SESSION_FILE_BYTES = 16 * 1024;

/**
 * The stored session, or null when nobody signed in here. Only a regular file of this user that others
 * cannot read is used: a symlink (followed, it would send whatever it points at as a bearer token), a FIFO
 * (reading it would hang), another user's file or one others can read is refused. Opened without following
 * links and checked on the open descriptor, so the file cannot be swapped between the check and the read.
 */
export async function readCliSession(homeDir: string): Promise<CliSession | null> {
  const file = sessionFile(homeDir);
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw refused(file, 'is a symbolic link');
    throw error;
  }
  let text: string;
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refused(file, 'is not a regular file');
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid)
      throw refused(file, `belongs to another user (uid ${info.uid})`);
    if ((info.mode & 0o077) !== 0)
      throw refused(file, `is readable by others (mode ${(info.mode & 0o777).toString(8)})`);
    if (info.size > MAX_SESSION_FILE_BYTES)
      throw refused(file, `is too large for a session file (${info.size} bytes)`);
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
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

function refused(file: string, why: string): FleetError {
  return new FleetError('forbidden', `${file} ${why}: delete it and sign in again (fleet login)`);
}

export async function writeCliSession(homeDir: string, session: CliSession): Promise<void> {
  await writeFileAtomically(sessionFile(homeDir), `${JSON.stringify(session)}\n`, { mode: 0o600 });
}

export async function removeCliSession(homeDir: string): Promise<void> {
  await rm(sessionFile(homeDir), { force: true });
}
