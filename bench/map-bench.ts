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
const keepOutputs = all.texts.map((t) => mapJson(t, { sendTime: SEND_TIME }));
const privacyFloor = (i: number) => {
  JSON.parse(all.texts[i]!);
  return JSON.stringify(keepOutputs[i]);
};
const policyPaths = Object.entries(PRIVACY_POLICIES).map(([name, privacy]) => [name, (i: number) => JSON.stringify(mapJson(all.texts[i]!, { sendTime: SEND_TIME, privacy }))] as const);
for (const [, fn] of policyPaths) measure(all, 20, fn);
measure(all, 20, privacyFloor);
const PRIVACY_ROUNDS = 60;
const policyNs: Record<string, number[]> = Object.fromEntries(policyPaths.map(([name]) => [name, []]));
const policyRatios: Record<string, number[]> = Object.fromEntries(policyPaths.map(([name]) => [name, []]));
for (let r = 0; r < PRIVACY_ROUNDS; r++) {
  const floorNs = measure(all, ROUND_MS / 2, privacyFloor);
  for (const [name, fn] of policyPaths) {
    const ns = measure(all, ROUND_MS / 2, fn);
    policyNs[name]!.push(ns);
    policyRatios[name]!.push(ns / floorNs);
  }
}
const ratioOf = (name: string) => median(policyRatios[name]!);
const policies: Record<string, { ratioToJsonFloor: number; overKeep: number; eventsPerSecond: number }> = Object.fromEntries(
  policyPaths.map(([name]) => [name, { ratioToJsonFloor: +ratioOf(name).toFixed(2), overKeep: +(ratioOf(name) - ratioOf('keep')).toFixed(2), eventsPerSecond: Math.round(1e9 / median(policyNs[name]!)) }]),
);
const privacy = { goalOverKeep: 0.5, ...policies };

if (json) {
  console.log(JSON.stringify({ ...overall, goal: 2.5, node: process.version, formats, privacy, eventTypes: rows }));
} else {
  console.log('event_name                        events/s   floor events/s   ratio to floor');
  for (const r of rows) console.log(`${r.eventName.padEnd(32)} ${String(r.eventsPerSecond).padStart(9)} ${String(r.floorEventsPerSecond).padStart(16)} ${r.ratioToJsonFloor.toFixed(2).padStart(16)}`);
  console.log(`${'overall'.padEnd(32)} ${String(overall.eventsPerSecond).padStart(9)} ${String(overall.floorEventsPerSecond).padStart(16)} ${overall.ratioToJsonFloor.toFixed(2).padStart(16)}   (goal ≤ 2.5)`);
  for (const [format, r] of Object.entries(formats)) console.log(`format ${format.padEnd(25)} ${String(r.eventsPerSecond).padStart(9)} ${''.padStart(16)} ${r.ratioToJsonFloor.toFixed(2).padStart(16)}   (all samples)`);
  for (const [name] of policyPaths) {
    const r = policies[name]!;
    console.log(`privacy ${name.padEnd(24)} ${String(r.eventsPerSecond).padStart(9)} ${''.padStart(16)} ${r.ratioToJsonFloor.toFixed(2).padStart(16)}   (all samples; ${r.overKeep.toFixed(2)} over keep, goal ≤ 0.5)`);
  }
}
