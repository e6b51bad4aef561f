// `node dist/bench/profile-top.js <file.cpuprofile> [n]`: where a CPU profile (node --cpu-prof, e.g. the
// worker's under `BENCH_PROFILE=<dir> npm run bench:e2e`) spends its busy time: self time by area (the
// AWS SDK by part, our mapping path, our worker code, Node's HTTP and streams, logging, GC), and the top
// `n` functions. Work done by Node or V8 for a caller (JSON.parse, a hash, a socket write) counts for the
// caller's area.
import fs from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const [file, top = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-top.js <file.cpuprofile> [n]');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

/** Which part of the SDK a script is. */
function sdkPart(url: string): string {
  if (/signature-v4|httpAuthSchemes|checksum|credential|token-providers/.test(url)) return 'signing, credentials';
  if (/submodules\/(protocols|schema|serde|cbor)\//.test(url)) return 'serialisation';
  if (/submodules\/endpoints\/|endpoint/.test(url)) return 'endpoints';
  if (/submodules\/retry\//.test(url)) return 'retries';
  if (/node-http-handler|fetch-http-handler|submodules\/transport\//.test(url)) return 'HTTP handler';
  if (/middleware-sdk-sqs/.test(url)) return 'SQS middleware (body MD5)';
  return 'middleware stack, client';
}

function area(url: string): string {
  if (/node_modules\/(@aws-sdk|@smithy)\//.test(url)) return `AWS SDK: ${sdkPart(url)}`;
  if (/node_modules\/(pino|sonic-boom|thread-stream|fast-redact|on-exit-leak-free|quick-format|atomic-sleep)/.test(url)) return 'logging (pino)';
  if (/node_modules\/zod\//.test(url)) return 'mapping: zod';
  if (/\/src\/worker\/clients\./.test(url)) return 'AWS SDK: HTTP handler';
  if (/\/src\/worker\//.test(url)) return 'worker (src/worker)';
  if (/\/(src|mappers)\//.test(url)) return 'mapping (src, mappers)';
  if (/node_modules\//.test(url)) return 'other packages';
  if (/^node:(_http|http|https|net|_tls|tls|dns)|^node:internal\/(http|streams|stream_base|net|dns)/.test(url)) return 'Node: HTTP, sockets, streams';
  if (url.startsWith('node:internal/crypto')) return 'Node: crypto (hashes, HMAC)';
  if (/^node:internal\/(process\/task_queues|async_hooks|timers)|^node:timers/.test(url)) return 'Node: promises, ticks, timers';
  if (/^node:internal\/(modules|bootstrap)|^node:internal\/vm/.test(url)) return 'Node: module loading';
  if (url.startsWith('node:')) return 'Node: other';
  return 'other';
}

const SPECIAL: Record<string, string> = {
  '(garbage collector)': 'GC',
  '(program)': 'V8/native (program)',
  '(idle)': 'idle',
  '(root)': 'V8/native (program)',
  runMicrotasks: 'Node: promises, ticks, timers',
};

/**
 * The area a sample counts for: that of the nearest frame (itself or a caller) in a package or in our
 * code, so that Node's and V8's work (a hash, a socket write, a JSON.parse) counts for whoever asked for
 * it; Node's own area only when no such frame is on the stack (I/O callbacks, timers, the event loop).
 */
function areaOf(id: number): string {
  const special = SPECIAL[byId.get(id)!.callFrame.functionName];
  if (special) return special;
  let own: string | undefined;
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const url = byId.get(at)!.callFrame.url;
    if (!url) continue;
    if (!url.startsWith('node:')) return area(url);
    own ??= area(url);
  }
  return own ?? 'V8/native (program)';
}

const areas = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, t] of self) {
  const a = areaOf(id);
  areas.set(a, (areas.get(a) ?? 0) + t);
  if (a === 'idle') continue;
  const f = byId.get(id)!.callFrame;
  const where = f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/dist\//, '');
  const key = `${f.functionName || '(anonymous)'}  ${where}${where ? `:${f.lineNumber + 1}` : ''}`;
  functions.set(key, (functions.get(key) ?? 0) + t);
}
const total = [...areas.values()].reduce((a, b) => a + b, 0);
const busy = total - (areas.get('idle') ?? 0);
const pct = (t: number) => `${((t / busy) * 100).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / total) * 100).toFixed(0)}%)`);
console.log('\nBusy time by area:');
for (const [a, t] of [...areas].filter(([a]) => a !== 'idle').sort((x, y) => y[1] - x[1])) console.log(`${pct(t)}  ${a}`);
console.log(`\nTop ${top} functions (self time):`);
for (const [k, t] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, Number(top))) console.log(`${pct(t)}  ${k}`);
