import { AGENT_DATA_PATH } from './agent-container-options.ts';
import { STAGING_NAME } from './restage-tar.ts';

/**
 * The program a short-lived helper container runs (the agent image's node, no shell, no network) to make
 * a staged restore the volume's content. Arguments: `swap <staging dir>` or `recover`. Prints one JSON
 * line `{"outcome": …}`. The swap is journaled in `<root>/.restore-journal.json` (written by temp file,
 * fsync and rename): `moving-out` (old entries into `.restore-previous`), `moving-in` (staged entries into
 * place), `swapped`. Recovery rolls an interrupted `moving-out` or `moving-in` back, so until the journal
 * says `swapped` the previous content is what the volume holds; `swapped` is completed forward.
 *
 * The journal lives in the agent's own volume, which a compromised agent can write, so recovery trusts
 * nothing it finds there: a journal that is not a small regular file of exactly the shape the swap writes,
 * that names the staging directory of the swap now starting (no earlier swap can have journaled it), or
 * whose `.restore-previous` is not a real directory is discarded with the other leftovers. Its staging
 * name is never used as a path, links are never followed, the staged tree being swapped in is never
 * touched, and a previous entry never replaces a live one; whatever the volume holds, recovery ends.
 */
export function volumeSwapScript(root: string): string {
  return String.raw`
'use strict';
const fs = require('fs');
const path = require('path');
const root = ${JSON.stringify(root)};
const journalPath = path.join(root, '.restore-journal.json');
const previous = path.join(root, '.restore-previous');
const stagingName = new RegExp(${JSON.stringify(STAGING_NAME.source)});
const PHASES = ['moving-out', 'moving-in', 'swapped'];
const JOURNAL_MAX_BYTES = 4096;
const reserved = (name) => name.startsWith('.restore-');
const syncDir = (dir) => { const fd = fs.openSync(dir, 'r'); try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); } };
const live = () => fs.readdirSync(root).filter((name) => !reserved(name));
const isRealDirectory = (target) => { try { return fs.lstatSync(target).isDirectory(); } catch (error) { if (error.code === 'ENOENT') return false; throw error; } };
const exists = (target) => { try { fs.lstatSync(target); return true; } catch (error) { if (error.code === 'ENOENT') return false; throw error; } };
function writeJournal(journal) {
  const temporary = journalPath + '.tmp';
  // 'wx': never through a link or into a file someone else left there.
  const fd = fs.openSync(temporary, 'wx', 0o600);
  try { fs.writeSync(fd, JSON.stringify(journal)); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  fs.renameSync(temporary, journalPath);
  syncDir(root);
}
/** The journal when it is exactly one the swap wrote; 'absent'; or 'untrusted' for anything else. */
function readJournal() {
  let fd;
  try {
    fd = fs.openSync(journalPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    return error.code === 'ENOENT' ? 'absent' : 'untrusted';
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size > JOURNAL_MAX_BYTES) return 'untrusted';
    const buffer = Buffer.alloc(JOURNAL_MAX_BYTES + 1);
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
    if (length > JOURNAL_MAX_BYTES) return 'untrusted';
    const journal = JSON.parse(buffer.subarray(0, length).toString('utf8'));
    const shaped = journal !== null && typeof journal === 'object' && !Array.isArray(journal)
      && Object.keys(journal).sort().join(',') === 'phase,staging'
      && PHASES.includes(journal.phase) && typeof journal.staging === 'string' && stagingName.test(journal.staging);
    return shaped ? journal : 'untrusted';
  } catch {
    return 'untrusted';
  } finally {
    fs.closeSync(fd);
  }
}
function tidy(keep) {
  for (const name of fs.readdirSync(root)) {
    if (reserved(name) && name !== keep) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
  syncDir(root);
}
function rollBack(journal) {
  // What a cut-off 'moving-in' put in place is staged content, not the previous one: it goes.
  if (journal.phase === 'moving-in') {
    for (const name of live()) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
  for (const name of fs.readdirSync(previous)) {
    const target = path.join(root, name);
    // A real swap never leaves an entry both live and previous: the live one is kept.
    if (!exists(target)) fs.renameSync(path.join(previous, name), target);
  }
  syncDir(root);
}
function recover(keep) {
  const journal = readJournal();
  if (journal === 'absent') { tidy(keep); return 'clean'; }
  const trusted = journal !== 'untrusted' && journal.staging !== keep && (journal.phase === 'swapped' || isRealDirectory(previous));
  if (!trusted) { tidy(keep); return 'clean'; }
  if (journal.phase === 'swapped') { tidy(keep); return 'completed'; }
  rollBack(journal);
  tidy(keep);
  return 'rolled-back';
}
function swap(name) {
  if (typeof name !== 'string' || !stagingName.test(name)) throw new Error('invalid staging directory name');
  recover(name);
  const staging = path.join(root, name);
  if (!isRealDirectory(staging)) throw new Error('the staged tree is missing');
  fs.mkdirSync(previous, { mode: 0o700 });
  writeJournal({ phase: 'moving-out', staging: name });
  for (const entry of live()) fs.renameSync(path.join(root, entry), path.join(previous, entry));
  syncDir(root); syncDir(previous);
  writeJournal({ phase: 'moving-in', staging: name });
  for (const entry of fs.readdirSync(staging)) fs.renameSync(path.join(staging, entry), path.join(root, entry));
  syncDir(root); syncDir(staging);
  writeJournal({ phase: 'swapped', staging: name });
  tidy(null);
  return 'swapped';
}
const [command, argument] = process.argv.slice(1);
const outcome = command === 'swap' ? swap(argument) : command === 'recover' ? recover(null) : null;
if (outcome === null) { process.stderr.write('usage: swap <dir> | recover\n'); process.exit(2); }
process.stdout.write(JSON.stringify({ outcome }) + '\n');
`;
}

/** The volume swap program for the agent's volume as the helper mounts it. */
export const VOLUME_SWAP_SCRIPT = volumeSwapScript(AGENT_DATA_PATH);
