// What the per-event benches share: a timed loop and a median.

/**
 * Runs `fn(i)` over inputs 0 … count-1, round and round, for about `ms`; returns nanoseconds per call.
 * (Its results are summed so that the calls cannot be optimised away.)
 */
export function nsPerCall(count: number, ms: number, fn: (i: number) => unknown): number {
  let n = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms * 1e6);
  let now = start;
  while (now < deadline) {
    for (let k = 0; k < 50; k++) {
      const r = fn(n % count);
      sink += typeof r === 'string' ? r.length : 1;
      n++;
    }
    now = process.hrtime.bigint();
  }
  if (sink === -1) console.log(sink);
  return Number(now - start) / n;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
