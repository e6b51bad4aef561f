import { sleep } from '../worker/backoff.js';

/**
 * Spaces work to at most `perSecond` items per second on average: each take(n) reserves the next n/rate
 * seconds and waits until its reservation starts. With no rate it never waits.
 */
export class RateLimiter {
  private nextFree = 0;

  constructor(private readonly perSecond?: number) {}

  async take(n: number): Promise<void> {
    if (!this.perSecond || n <= 0) return;
    const now = Date.now();
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + (n * 1000) / this.perSecond;
    if (start > now) await sleep(start - now);
  }
}
