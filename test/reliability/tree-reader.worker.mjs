// A reader thread of the reliability suite (see startReaders in support.ts): sweeps every file
// below workerData.root in a loop until told to stop, reading each one as Traefik would — the
// Go-template pass (our escapes undone by the very unescapeGoTemplate of src/render/serialize.ts,
// handed over as source text), then YAML with unique keys — and checking that the header's
// checksum matches the body below it, so a partial, torn or empty file cannot pass.
import { parentPort, workerData } from 'node:worker_threads';
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';

const { parse } = await import(workerData.yamlUrl);
// eslint-disable-next-line no-new-func
const unescapeGoTemplate = new Function(`return (${workerData.unescapeSource});`)();
const stop = new Int32Array(workerData.stop);
const { root, tempMark, headerMark } = workerData;
const parsedBodies = new Set(); // checksums of bodies already parsed: same bytes, same result
const versions = new Set();
const examples = [];
let reads = 0;
let parsed = 0;
let failures = 0;
let vanished = 0;
let sweeps = 0;

function problemOf(rel, text) {
  if (text.length === 0) return 'empty file';
  if (!text.startsWith(headerMark)) return `no generated-by header (${text.length} bytes)`;
  const lines = text.split('\n', 3);
  const m = /^# checksum: sha256:([0-9a-f]{64})$/.exec(lines[2] || '');
  if (!m) return `no checksum line (${text.length} bytes)`;
  const body = text.slice(lines[0].length + lines[1].length + lines[2].length + 3);
  if (createHash('sha256').update(body, 'utf8').digest('hex') !== m[1]) return `checksum mismatch: torn (${text.length} bytes)`;
  if (!rel.endsWith('.yml') || parsedBodies.has(m[1])) return null;
  try {
    const doc = parse(unescapeGoTemplate(body), { uniqueKeys: true });
    if (!doc || typeof doc !== 'object') return 'YAML is not a mapping';
  } catch (err) {
    return `YAML: ${String(err.message).split('\n')[0]}`;
  }
  parsed++;
  parsedBodies.add(m[1]);
  return null;
}

function sweep(dir, rel) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return;
    throw err;
  }
  for (const e of entries) {
    const abs = path.join(dir, e.name);
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      sweep(abs, r);
      continue;
    }
    if (!e.isFile() || e.name.includes(tempMark) || e.name === '.traefik-sync-reload') continue;
    let text;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (err) {
      if (err.code === 'ENOENT') {
        vanished++;
        continue;
      }
      throw err;
    }
    reads++;
    if (versions.size < 200_000) versions.add(`${r}:${text.length}:${text.slice(0, 400)}`);
    const p = problemOf(r, text);
    if (p) {
      failures++;
      if (examples.length < 20) examples.push(`${r}: ${p}`);
    }
  }
}

parentPort.postMessage({ ready: true });
const pause = workerData.pauseMs ?? 1;
while (Atomics.load(stop, 0) === 0) {
  sweep(root, '');
  sweeps++;
  // A short breath between sweeps: an empty tree would otherwise spin a core on readdir alone.
  if (pause > 0) Atomics.wait(stop, 0, 0, pause);
}
parentPort.postMessage({ reads, parsed, failures, vanished, sweeps, versions: versions.size, examples });
