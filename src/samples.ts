// The bundled sample events (samples/), for `npm start`, the benchmarks and the tests.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitInput } from './input.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// src/ when run from source (tests), dist/src/ when compiled.
const root = fs.existsSync(path.join(here, '..', 'package.json')) ? path.join(here, '..') : path.join(here, '..', '..');
export const SAMPLES_DIR = path.join(root, 'samples');

export type RawSample = { metadata: Record<string, unknown>; body: Record<string, unknown> };

/** Every sample event, file by file in name order, each file's events in order. */
export function loadSamples(): RawSample[] {
  return fs
    .readdirSync(SAMPLES_DIR)
    .sort()
    .flatMap((f) => splitInput(fs.readFileSync(path.join(SAMPLES_DIR, f), 'utf8')).map((i) => i.value as RawSample));
}

/** `n` distinct events made from the samples: each gets its own request_id (so its own event id). */
export function distinctEvents(n: number, tag: string, samples: RawSample[] = loadSamples(), offset = 0): RawSample[] {
  return Array.from({ length: n }, (_, i) => {
    const raw = structuredClone(samples[(offset + i) % samples.length]!);
    raw.metadata.request_id = `${tag}-${offset + i}`;
    return raw;
  });
}
