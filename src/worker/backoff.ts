/** Exponential back-off with full jitter (AWS's recommendation): a random delay in [0, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, baseMs = 100, capMs = 5_000, random = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** Resolves after `ms`, or as soon as `signal` aborts; either way it leaves no listener on the signal. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** What `unlessAborted` resolves with when the signal aborted first. */
export const ABORTED: unique symbol = Symbol('aborted');

/** Resolves with the promise's outcome, or with ABORTED as soon as `signal` aborts; leaves no listener on the signal. */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** What waits for a publisher to go idle: `until()` resolves once `busy()` is false; `check()` wakes the waiters when it is. */
export class IdleWaiters {
  private readonly waiters = new Set<() => void>();

  constructor(private readonly busy: () => boolean) {}

  async until(): Promise<void> {
    while (this.busy()) await new Promise<void>((r) => this.waiters.add(r));
  }

  check(): void {
    if (this.busy()) return;
    for (const r of this.waiters) r();
    this.waiters.clear();
  }
}
