/** Exponential back-off with full jitter (AWS's recommendation): a random delay in [0, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, baseMs = 100, capMs = 5_000, random = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
