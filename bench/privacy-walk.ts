// `node dist/bench/privacy-walk.js [--json]`: what a privacy policy costs inside the per-event path's
// fused walk (src/caliper/finish.ts), measured apart from the rest of the path so that the figure is
// steady enough to compare two builds. Each sample is mapped anew for every measurement (the walk meets
// fresh strings and objects, as in the worker); the same is timed with and without the policy, the two
// alternating round by round, and the difference is reported per event and as a multiple of the JSON
// floor (JSON.parse of the raw text + JSON.stringify of the keep output) measured in the same rounds.
import { deterministicEventId } from '../src/engine.js';
import { finishValid } from '../src/caliper/finish.js';
import { caliperEvent, edApp } from '../mappers/builders.js';
import { INSTRUCTURE_EVENT_NAMES, MAPPERS } from '../mappers/index.js';
import { Privacy, type Policy } from '../src/privacy/policy.js';
import type { RawEvent } from '../src/raw.js';
import { loadSamples } from '../src/samples.js';
import { median, nsPerCall } from './timing.js';

const SEND_TIME = '2020-01-01T00:00:00.000Z';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 100);
const json = process.argv.includes('--json');
const KEY = Buffer.from('the bench key: thirty-two bytes or more');

const texts = loadSamples().map((raw) => JSON.stringify(raw));
const built = texts.map((text) => {
  const raw = JSON.parse(text) as RawEvent;
  return { raw, mapper: MAPPERS.get(raw.metadata.event_name)!, departures: INSTRUCTURE_EVENT_NAMES.has(raw.metadata.event_name), id: deterministicEventId(raw) };
});

/** Maps sample `i` anew and finishes it in the fused walk, with the policy's walk if given; its JSON text. */
function walk(i: number, privacy?: Privacy): string {
  const { raw, mapper, departures, id } = built[i]!;
  const event = caliperEvent(raw, mapper, mapper.map(raw), id, departures) as unknown as Record<string, unknown>;
  const sensor = edApp(raw.metadata).id;
  const done = privacy ? finishValid(sensor, SEND_TIME, event, departures, privacy.walk(mapper.eventName, raw.metadata.root_account_id)) : finishValid(sensor, SEND_TIME, event, departures);
  if (!done) throw new Error(`${mapper.eventName}: the fused walk took the slow path`);
  return JSON.stringify(done);
}
const keepOutputs = texts.map((_, i) => JSON.parse(walk(i)) as unknown);
const floor = (i: number) => {
  JSON.parse(texts[i]!);
  return JSON.stringify(keepOutputs[i]);
};

const measure = (fn: (i: number) => string, ms: number): number => nsPerCall(texts.length, ms, fn);

const policies = (['pseudonymise', 'drop'] as Exclude<Policy, 'keep'>[]).map((policy) => ({ policy, privacy: new Privacy({ policy, key: KEY }) }));
const keep = (i: number) => walk(i);
for (const fn of [keep, floor, ...policies.map((p) => (i: number) => walk(i, p.privacy))]) measure(fn, 300);
const result: Record<string, unknown> = { node: process.version, rounds: ROUNDS };
const floorNs: number[] = [];
const extra: Record<string, number[]> = Object.fromEntries(policies.map((p) => [p.policy, []]));
for (let r = 0; r < ROUNDS; r++) {
  floorNs.push(measure(floor, ROUND_MS));
  for (const p of policies) {
    // keep and the policy in alternating order, each difference from the same round.
    const withPolicy = (i: number) => walk(i, p.privacy);
    let keepNs: number;
    let policyNs: number;
    if (r % 2) {
      keepNs = measure(keep, ROUND_MS);
      policyNs = measure(withPolicy, ROUND_MS);
    } else {
      policyNs = measure(withPolicy, ROUND_MS);
      keepNs = measure(keep, ROUND_MS);
    }
    extra[p.policy]!.push(policyNs - keepNs);
  }
}
const floorMedian = median(floorNs);
result.floorMicrosPerEvent = +(floorMedian / 1000).toFixed(2);
for (const p of policies) {
  const ns = median(extra[p.policy]!);
  result[p.policy] = { extraMicrosPerEvent: +(ns / 1000).toFixed(2), extraOverFloor: +(ns / floorMedian).toFixed(3) };
}
if (json) console.log(JSON.stringify(result));
else {
  console.log(`floor (JSON.parse + JSON.stringify): ${result.floorMicrosPerEvent} µs per event; ${ROUNDS} rounds`);
  for (const p of policies) {
    const r = result[p.policy] as { extraMicrosPerEvent: number; extraOverFloor: number };
    console.log(`${p.policy.padEnd(13)} the fused walk costs ${r.extraMicrosPerEvent} µs per event more than keep's (${r.extraOverFloor} × the floor)`);
  }
}
