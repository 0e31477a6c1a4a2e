/**
 * The program a short-lived helper container runs (the agent image's node, no shell, no network) to make
 * a staged restore the volume's content. Arguments: `swap <staging dir>` or `recover`. Prints one JSON
 * line `{"outcome": …}`. The swap is journaled in `/data/.restore-journal.json` (written by temp file,
 * fsync and rename): `moving-out` (old entries into `.restore-previous`), `moving-in` (staged entries into
 * place), `swapped`. Recovery rolls an interrupted `moving-out` or `moving-in` back, so until the journal
 * says `swapped` the previous content is what the volume holds; `swapped` is completed forward.
 */
export const VOLUME_SWAP_SCRIPT = String.raw`
'use strict';
const fs = require('fs');
const path = require('path');
const root = '/data';
const journalPath = path.join(root, '.restore-journal.json');
const previous = path.join(root, '.restore-previous');
const reserved = (name) => name.startsWith('.restore-');
const syncDir = (dir) => { const fd = fs.openSync(dir, 'r'); try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); } };
const live = () => fs.readdirSync(root).filter((name) => !reserved(name));
function writeJournal(journal) {
  const temporary = journalPath + '.tmp';
  const fd = fs.openSync(temporary, 'w', 0o600);
  try { fs.writeSync(fd, JSON.stringify(journal)); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  fs.renameSync(temporary, journalPath);
  syncDir(root);
}
function readJournal() {
  try { return JSON.parse(fs.readFileSync(journalPath, 'utf8')); } catch (error) { if (error.code === 'ENOENT') return null; throw error; }
}
function tidy(keep) {
  for (const name of fs.readdirSync(root)) {
    if (reserved(name) && name !== keep) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
  syncDir(root);
}
function recover(keep) {
  const journal = readJournal();
  if (journal === null) { tidy(keep); return 'clean'; }
  if (journal.phase === 'swapped') { tidy(keep); return 'completed'; }
  const staging = path.join(root, journal.staging);
  if (journal.phase === 'moving-in') {
    for (const name of live()) fs.renameSync(path.join(root, name), path.join(staging, name));
  }
  if (fs.existsSync(previous)) {
    for (const name of fs.readdirSync(previous)) fs.renameSync(path.join(previous, name), path.join(root, name));
  }
  syncDir(root);
  tidy(keep);
  return 'rolled-back';
}
function swap(name) {
  if (!/^\.restore-staging-[a-z0-9-]{1,80}$/.test(name)) throw new Error('invalid staging directory name');
  recover(name);
  const staging = path.join(root, name);
  if (!fs.statSync(staging).isDirectory()) throw new Error('the staged tree is missing');
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
