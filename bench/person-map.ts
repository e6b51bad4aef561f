// PERSON_ID_MAP at scale: a map of N rows (default 1,000,000) written to a temporary file, loaded the
// way the worker loads it (openPersonMap), then looked up. Prints the load time, the memory the
// loaded map holds (heap and buffers, after a GC, over the same figures before), the peak during the
// load, and the lookup cost. Run: `npm run -s build && node --expose-gc dist/bench/person-map.js [rows]`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openPersonMap } from '../src/person-map.js';
import { nsPerCall } from './timing.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'person-map-bench-'));
const file = path.join(dir, 'map.csv');
// A roster export's shape: global Canvas ids, platform UUIDs, an e-mail column the map ignores.
const out = fs.openSync(file, 'w');
fs.writeSync(out, 'canvas_user_id,person_id,email\n');
const ids: string[] = [];
for (let i = 0; i < rows; i += 10_000) {
  let chunk = '';
  for (let j = i; j < Math.min(rows, i + 10_000); j++) {
    const id = String(21070000000000000n + BigInt(j * 7 + 1));
    if (j % 1000 === 0) ids.push(id);
    chunk += `${id},${crypto.randomUUID()},student${j}@school.example\n`;
  }
  fs.writeSync(out, chunk);
}
fs.closeSync(out);
const bytes = fs.statSync(file).size;

const used = () => {
  const m = process.memoryUsage();
  // external includes arrayBuffers (the map's buffer of platform ids).
  return { heap: m.heapUsed, external: m.external, rss: m.rss };
};
gc();
gc();
const before = used();
let peak = before.rss;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const start = process.hrtime.bigint();
const map = await openPersonMap(file);
const loadMs = Number(process.hrtime.bigint() - start) / 1e6;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
ids.length; // (kept alive to here, as before)
gc();
gc();
const after = used();
const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
const lookupNs = nsPerCall(ids.length, 300, (i) => map.lookup(ids[i]!, 2107n));
console.log(
  JSON.stringify({
    rows: map.status.rows,
    fileMB: Number(mb(bytes)),
    loadMs: Math.round(loadMs),
    heldMB: Number(mb(after.heap - before.heap + after.external - before.external)),
    rssMB: Number(mb(after.rss)),
    peakRssMB: Number(mb(peak)),
    lookupNs: Math.round(lookupNs),
    node: process.version,
  }),
);
fs.rmSync(dir, { recursive: true, force: true });
