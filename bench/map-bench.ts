// npm run bench [-- --json]: per event type, the throughput of the whole per-event path (JSON.parse
// with the exact-number check, raw validation, map, event id, Caliper validation, JSON.stringify) against its floor — JSON.parse
// of the same raw text plus JSON.stringify of the same Caliper output — measured in the same run,
// interleaved, so the ratio does not depend on how fast this machine is. Also each output format and
// each privacy policy over all samples.
import { mapEvent, mapJson } from '../src/engine.js';
import { FORMATS, serializeEnvelope } from '../src/formats/index.js';
import { loadSamples } from '../src/samples.js';
import { Privacy } from '../src/privacy/policy.js';
import { median, nsPerCall } from './timing.js';

const SEND_TIME = '2020-01-01T00:00:00.000Z';
const json = process.argv.includes('--json');
const ROUNDS = 7;
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 60);

interface Case {
  eventName: string;
  texts: string[];
  outputs: unknown[];
}

function loadCases(): Case[] {
  const byName = new Map<string, Case>();
  for (const raw of loadSamples()) {
    const text = JSON.stringify(raw);
    const name = String(raw.metadata.event_name);
    const c = byName.get(name) ?? { eventName: name, texts: [], outputs: [] };
    c.texts.push(text);
    c.outputs.push(mapEvent(JSON.parse(text), { sendTime: SEND_TIME }));
    byName.set(name, c);
  }
  return [...byName.values()];
}

/** Runs `fn` over the case's inputs for about `ms`; returns nanoseconds per event. */
const measure = (c: Case, ms: number, fn: (i: number) => unknown): number => nsPerCall(c.texts.length, ms, fn);

const cases = loadCases();
const full = (c: Case) => (i: number) => JSON.stringify(mapJson(c.texts[i]!, { sendTime: SEND_TIME }));
const floor = (c: Case) => (i: number) => {
  JSON.parse(c.texts[i]!);
  return JSON.stringify(c.outputs[i]);
};
// Warm up both paths so the JIT has compiled them before anything is timed.
for (const c of cases) {
  measure(c, 20, full(c));
  measure(c, 20, floor(c));
}
const rows = cases.map((c) => {
  const fullNs: number[] = [];
  const floorNs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    fullNs.push(measure(c, ROUND_MS, full(c)));
    floorNs.push(measure(c, ROUND_MS, floor(c)));
  }
  const f = median(fullNs);
  const fl = median(floorNs);
  return { eventName: c.eventName, eventsPerSecond: Math.round(1e9 / f), floorEventsPerSecond: Math.round(1e9 / fl), ratioToJsonFloor: +(f / fl).toFixed(2) };
});
// Overall: every event type weighted equally (mean time per event over the types).
const meanFull = rows.reduce((s, r) => s + 1e9 / r.eventsPerSecond, 0) / rows.length;
const meanFloor = rows.reduce((s, r) => s + 1e9 / r.floorEventsPerSecond, 0) / rows.length;
const overall = { ratioToJsonFloor: +(meanFull / meanFloor).toFixed(2), eventsPerSecond: Math.round(1e9 / meanFull), floorEventsPerSecond: Math.round(1e9 / meanFloor) };

// Each output format over every sample (all types in one case), full path and floor interleaved as above.
const all: Case = { eventName: 'all', texts: cases.flatMap((c) => c.texts), outputs: [] };
const formats = Object.fromEntries(
  FORMATS.map((format) => {
    const outputs = all.texts.map((t) => mapJson(t, { sendTime: SEND_TIME, format }));
    const fullOf = (i: number) => serializeEnvelope(mapJson(all.texts[i]!, { sendTime: SEND_TIME, format }));
    const floorOf = (i: number) => {
      JSON.parse(all.texts[i]!);
      return JSON.stringify(outputs[i]);
    };
    measure(all, 20, fullOf);
    measure(all, 20, floorOf);
    const f: number[] = [];
    const fl: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      f.push(measure(all, ROUND_MS * 4, fullOf));
      fl.push(measure(all, ROUND_MS * 4, floorOf));
    }
    return [format, { ratioToJsonFloor: +(median(f) / median(fl)).toFixed(2), eventsPerSecond: Math.round(1e9 / median(f)) }];
  }),
);

// The privacy policies (src/privacy) over every sample in the default format, against the same floor
// (JSON.parse of the raw text + JSON.stringify of the keep output): many short rounds, each timing the
// floor and then every policy, a policy's ratio per round its time over that round's floor, and the
// median of those ratios (a goal that is the difference of two ratios needs the pairs close in time:
// on a shared host the floor drifts ±30% over seconds). `overKeep`: the policy's ratio minus keep's
// (the goal: at most 0.5 × the floor on top). mapJson is the worker's path: the parsed event is its
// own, so the policy writes into it (Privacy.event's `owned`).
const PRIVACY_POLICIES = {
  keep: undefined,
  pseudonymise: new Privacy({ policy: 'pseudonymise', key: Buffer.from('the bench key: thirty-two bytes or more') }),
  drop: new Privacy({ policy: 'drop', key: Buffer.from('the bench key: thirty-two bytes or more') }),
};
const PRIVACY_ROUNDS = 60;
type PolicyRow = { ratioToJsonFloor: number; overKeep: number; eventsPerSecond: number };

/** Each policy over `texts` (keep first) against their floor, in paired rounds as above. */
function privacyRows(texts: string[]): Record<string, PolicyRow> {
  const c: Case = { eventName: 'privacy', texts, outputs: [] };
  const keepOutputs = texts.map((t) => mapJson(t, { sendTime: SEND_TIME }));
  const privacyFloor = (i: number) => {
    JSON.parse(texts[i]!);
    return JSON.stringify(keepOutputs[i]);
  };
  const policyPaths = Object.entries(PRIVACY_POLICIES).map(([name, privacy]) => [name, (i: number) => JSON.stringify(mapJson(texts[i]!, { sendTime: SEND_TIME, privacy }))] as const);
  for (const [, fn] of policyPaths) measure(c, 20, fn);
  measure(c, 20, privacyFloor);
  const policyNs: Record<string, number[]> = Object.fromEntries(policyPaths.map(([name]) => [name, []]));
  const policyRatios: Record<string, number[]> = Object.fromEntries(policyPaths.map(([name]) => [name, []]));
  for (let r = 0; r < PRIVACY_ROUNDS; r++) {
    const floorNs = measure(c, ROUND_MS / 2, privacyFloor);
    for (const [name, fn] of policyPaths) {
      const ns = measure(c, ROUND_MS / 2, fn);
      policyNs[name]!.push(ns);
      policyRatios[name]!.push(ns / floorNs);
    }
  }
  const ratioOf = (name: string) => median(policyRatios[name]!);
  return Object.fromEntries(
    policyPaths.map(([name]) => [name, { ratioToJsonFloor: +ratioOf(name).toFixed(2), overKeep: +(ratioOf(name) - ratioOf('keep')).toFixed(2), eventsPerSecond: Math.round(1e9 / median(policyNs[name]!)) }]),
  );
}

/**
 * The sample's text with `page=<k>` added to the query of each of its URLs (metadata.url and
 * referrer, body.url, redirect_url, progress.next_requirement_url): every URL another text.
 */
function withPage(text: string, k: number): string {
  const raw = JSON.parse(text) as { metadata: Record<string, unknown>; body: Record<string, unknown> };
  const paged = (url: unknown) => {
    if (typeof url !== 'string' || !/^https?:/i.test(url)) return url;
    const hash = url.indexOf('#');
    const [head, fragment] = hash === -1 ? [url, ''] : [url.slice(0, hash), url.slice(hash)];
    return `${head}${head.includes('?') ? '&' : '?'}page=${k}${fragment}`;
  };
  for (const f of ['url', 'referrer']) if (f in raw.metadata) raw.metadata[f] = paged(raw.metadata[f]);
  for (const f of ['url', 'redirect_url']) if (f in raw.body) raw.body[f] = paged(raw.body[f]);
  const progress = raw.body.progress as Record<string, unknown> | undefined;
  if (progress && typeof progress === 'object' && 'next_requirement_url' in progress) progress.next_requirement_url = paged(progress.next_requirement_url);
  return JSON.stringify(raw);
}

const policies = privacyRows(all.texts);
// The same with no URL seen twice (64 variants of each sample: ~13,000 URLs, three times what the policy remembers,
// taken round-robin): what the policy costs when live traffic never repeats a URL.
const everyUrlNew = privacyRows(Array.from({ length: 64 }, (_, k) => all.texts.map((t) => withPage(t, k))).flat());
const privacy = { goalOverKeep: 0.5, ...policies, everyUrlNew };

if (json) {
  console.log(JSON.stringify({ ...overall, goal: 2.5, node: process.version, formats, privacy, eventTypes: rows }));
} else {
  console.log('event_name                        events/s   floor events/s   ratio to floor');
  for (const r of rows) console.log(`${r.eventName.padEnd(32)} ${String(r.eventsPerSecond).padStart(9)} ${String(r.floorEventsPerSecond).padStart(16)} ${r.ratioToJsonFloor.toFixed(2).padStart(16)}`);
  console.log(`${'overall'.padEnd(32)} ${String(overall.eventsPerSecond).padStart(9)} ${String(overall.floorEventsPerSecond).padStart(16)} ${overall.ratioToJsonFloor.toFixed(2).padStart(16)}   (goal ≤ 2.5)`);
  for (const [format, r] of Object.entries(formats)) console.log(`format ${format.padEnd(25)} ${String(r.eventsPerSecond).padStart(9)} ${''.padStart(16)} ${r.ratioToJsonFloor.toFixed(2).padStart(16)}   (all samples)`);
  for (const [label, rows] of [['', policies], [' (every URL new)', everyUrlNew]] as const) {
    for (const [name, r] of Object.entries(rows)) {
      console.log(`privacy ${(name + label).padEnd(24)} ${String(r.eventsPerSecond).padStart(9)} ${''.padStart(16)} ${r.ratioToJsonFloor.toFixed(2).padStart(16)}   (all samples; ${r.overKeep.toFixed(2)} over keep, goal ≤ 0.5)`);
    }
  }
}
