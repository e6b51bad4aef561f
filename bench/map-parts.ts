// `node dist/bench/map-parts.js [--json]` (after `npm run build`): what the per-event path's parts cost,
// each as a multiple of the same floor as `npm run bench` (JSON.parse of the raw text + JSON.stringify
// of the Caliper output), measured interleaved in one run, per event type, then averaged over the types:
// the full path, the full path with random event ids (no hashing), and the deterministic id alone
// (its key-order-free encoding, that encoding's JSON.stringify, the SHA-256). About 2 minutes; each
// part gets BENCH_ROUND_MS (20) per type in each of 7 rounds, and the median round counts.
import { deterministicEventId, mapJson, orderFree } from '../src/engine.js';
import { loadSamples } from '../src/samples.js';

const SEND_TIME = '2020-01-01T00:00:00.000Z';
const ROUNDS = 7;
const ROUND_US = Number(process.env.BENCH_ROUND_MS ?? 20) * 1000;

const texts = loadSamples().map((s) => JSON.stringify(s));
const byType = new Map<string, string[]>();
for (const t of texts) {
  const name = String((JSON.parse(t) as { metadata: { event_name: string } }).metadata.event_name);
  byType.set(name, [...(byType.get(name) ?? []), t]);
}
const groups = [...byType.values()];
const outputs = new Map(texts.map((t) => [t, mapJson(t, { sendTime: SEND_TIME })]));

const parts: Record<string, (text: string) => unknown> = {
  floor: (t) => {
    JSON.parse(t);
    return JSON.stringify(outputs.get(t));
  },
  full: (t) => JSON.stringify(mapJson(t, { sendTime: SEND_TIME })),
  fullWithRandomIds: (t) => JSON.stringify(mapJson(t, { sendTime: SEND_TIME, eventId: 'random' })),
  parse: (t) => JSON.parse(t),
  parseAndId: (t) => deterministicEventId(JSON.parse(t)),
  parseAndEncoding: (t) => orderFree(JSON.parse(t)),
  parseAndEncodingText: (t) => JSON.stringify(orderFree(JSON.parse(t))),
};

/** Microseconds per event of `fn` over one type's samples for about ROUND_US. */
function measure(group: string[], fn: (text: string) => unknown): number {
  for (let i = 0; i < 500; i++) fn(group[i % group.length]!);
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ROUND_US * 1000);
  let now = start;
  while (now < deadline) {
    for (let k = 0; k < 20; k++) fn(group[n++ % group.length]!);
    now = process.hrtime.bigint();
  }
  return Number(now - start) / n / 1000;
}

const rounds: Record<string, number[]> = Object.fromEntries(Object.keys(parts).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of Object.entries(parts)) rounds[name]!.push(groups.reduce((sum, g) => sum + measure(g, fn), 0) / groups.length);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const us = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, median(v)]));
const floor = us.floor!;
const row = (name: string, value: number) => ({ part: name, microseconds: +value.toFixed(2), ofFloor: +(value / floor).toFixed(2) });
const rows = [
  row('floor: JSON.parse + JSON.stringify of the output', floor),
  row('full path', us.full!),
  row('full path with random ids', us.fullWithRandomIds!),
  row('deterministic id (beyond the parse)', us.parseAndId! - us.parse!),
  row('  key-order-free encoding', us.parseAndEncoding! - us.parse!),
  row('  its JSON.stringify', us.parseAndEncodingText! - us.parseAndEncoding!),
  row('  SHA-256 and the UUID layout', us.parseAndId! - us.parseAndEncodingText!),
];
if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, rows }));
else for (const r of rows) console.log(`${r.part.padEnd(52)} ${r.microseconds.toFixed(2).padStart(7)} µs ${r.ofFloor.toFixed(2).padStart(6)} × floor`);
