// `node dist/bench/privacy-walk.js [--json]`: what a privacy policy adds to the per-event path, measured
// apart from the rest of the path so that the figure is steady enough to compare two builds: the raw
// pass (src/privacy/policy.ts: every field of the raw event by the table) and the keyed event id over
// the event as the policy made it, against what keep does in their place (the unkeyed id of the raw
// event). The policy's side and keep's alternate round by round; the difference is reported per event
// and as a multiple of the JSON floor (JSON.parse of the raw text + JSON.stringify of the keep output)
// measured in the same rounds. (The mapper then meets a smaller event under a policy: not counted here.)
import { deterministicEventId, mapEvent, privateEventId } from '../src/engine.js';
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
// Both sides parse the sample first (the worker's path: the pass writes into the event it was given,
// Privacy.event's `owned`); the parse is the same on both and falls out of the difference.
const parsed = (i: number) => JSON.parse(texts[i]!) as RawEvent;

/** keep's part: the unkeyed id of the raw event. */
const keep = (i: number) => deterministicEventId(parsed(i));
/** A policy's part: the raw pass (in place) and the keyed id of what it made. */
const pass = (privacy: Privacy) => (i: number) => privateEventId(privacy, privacy.event(parsed(i), true));

const keepOutputs = texts.map((text) => JSON.parse(JSON.stringify(mapEvent(JSON.parse(text), { sendTime: SEND_TIME }))) as unknown);
const floor = (i: number) => {
  JSON.parse(texts[i]!);
  return JSON.stringify(keepOutputs[i]);
};

const measure = (fn: (i: number) => string, ms: number): number => nsPerCall(texts.length, ms, fn);

const policies = (['pseudonymise', 'drop'] as Exclude<Policy, 'keep'>[]).map((policy) => ({ policy, run: pass(new Privacy({ policy, key: KEY })) }));
for (const fn of [keep, floor, ...policies.map((p) => p.run)]) measure(fn, 300);
const result: Record<string, unknown> = { node: process.version, rounds: ROUNDS };
const floorNs: number[] = [];
const extra: Record<string, number[]> = Object.fromEntries(policies.map((p) => [p.policy, []]));
for (let r = 0; r < ROUNDS; r++) {
  floorNs.push(measure(floor, ROUND_MS));
  for (const p of policies) {
    // keep and the policy in alternating order, each difference from the same round.
    let keepNs: number;
    let policyNs: number;
    if (r % 2) {
      keepNs = measure(keep, ROUND_MS);
      policyNs = measure(p.run, ROUND_MS);
    } else {
      policyNs = measure(p.run, ROUND_MS);
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
    console.log(`${p.policy.padEnd(13)} the raw pass and the keyed id cost ${r.extraMicrosPerEvent} µs per event more than keep's id (${r.extraOverFloor} × the floor)`);
  }
}
