// Failed AWS calls: classified by kind, counted, and logged as one concise line per operation and
// kind, repeats summarised at a growing interval, recovery logged once. A call that has been failing
// with no success in between is what /healthz reports.
import type { Logger } from 'pino';

export const FAULT_KINDS = ['credentials', 'network', 'throttled', 'other'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The calls the worker makes: AWS's, the Caliper endpoint's POST (PostEnvelope) and its OAuth token request (TokenRequest), and `serve`'s SendMessageBatch. */
export type Operation = 'ReceiveMessage' | 'PutRecords' | 'DeleteMessageBatch' | 'ChangeMessageVisibilityBatch' | 'SendMessage' | 'SendMessageBatch' | 'PostEnvelope' | 'GetSecretValue' | 'TokenRequest';

/** Where the call sites report. */
export interface CallReport {
  failed(operation: Operation, err: unknown): void;
  succeeded(operation: Operation): void;
  /** An entry the call refused though the call succeeded (Kinesis's ProvisionedThroughputExceededException, say), by its error code. */
  entryFailed?(operation: Operation, code: string): void;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  errors?: SdkError[];
  $metadata?: { httpStatusCode?: number };
}

const CREDENTIALS = /Credential|Token|Signature|AccessKey|AccessDenied|Unrecognized|Unauthori[sz]ed|AuthFailure|NotAuthorized|Forbidden/;
const THROTTLED = /Throttl|TooManyRequests|ProvisionedThroughputExceeded|LimitExceeded|SlowDown|OverLimit/;
const NETWORK = /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|TimeoutError|RequestTimeout|NetworkingError)/;

/** The kind of a failed AWS call, from the SDK error's name and code (or the Node error code under it). */
export function faultKind(err: unknown): FaultKind {
  const e = (err ?? {}) as SdkError;
  const names = [e.name, e.code, ...(e.errors ?? []).map((inner) => inner.code)].filter((n): n is string => typeof n === 'string');
  const status = e.$metadata?.httpStatusCode;
  if (names.some((n) => CREDENTIALS.test(n)) || status === 401 || status === 403) return 'credentials';
  if (names.some((n) => THROTTLED.test(n)) || status === 429) return 'throttled';
  if (names.some((n) => NETWORK.test(n))) return 'network';
  return 'other';
}

/** `Name: message`, without the stack: the Node error code stands in for a bare `Error`. */
export function describeError(err: unknown): string {
  const e = (err ?? {}) as SdkError;
  const name = e.name && e.name !== 'Error' ? e.name : (e.code ?? e.name ?? 'Error');
  const message = e.message || e.errors?.[0]?.message || String(err);
  return `${name}: ${message}`;
}

interface Streak {
  since: number;
  failures: number;
  kind: FaultKind;
  error: string;
}

interface Quiet {
  nextLogAt: number;
  intervalMs: number;
  suppressed: number;
}

export class Faults implements CallReport {
  readonly counts: Record<FaultKind, number> = { credentials: 0, network: 0, throttled: 0, other: 0 };
  private readonly streaks = new Map<Operation, Streak>();
  private readonly quiet = new Map<string, Quiet>();

  constructor(
    private readonly logger: Logger,
    private readonly firstIntervalMs = 5_000,
    private readonly maxIntervalMs = 10 * 60_000,
    private readonly now = Date.now,
  ) {}

  failed(operation: Operation, err: unknown): void {
    const now = this.now();
    const kind = faultKind(err);
    const error = describeError(err);
    this.counts[kind]++;
    const streak = this.streaks.get(operation) ?? { since: now, failures: 0, kind, error };
    this.streaks.set(operation, { ...streak, failures: streak.failures + 1, kind, error });
    this.log(operation, kind, error, now - streak.since, now);
  }

  /** Counted by the kind its code names (a throttled entry moves `throttled`); not logged: the caller retries it, and `retries` counts that. */
  entryFailed(_operation: Operation, code: string): void {
    this.counts[faultKind({ code })]++;
  }

  /**
   * An attempt our HTTP handler cut at its deadline (clients.ts): the SDK retries it, so the call may
   * still succeed and the caller never hear of it. Logged as the first failure of an operation and kind
   * is, repeats summarised at a doubling interval (a success does not start the summary over: stalls
   * among successes are the case this is for).
   */
  timedOut(operation: string, ms: number): void {
    this.log(operation, 'timeout', `no answer within ${ms} ms; the attempt was cut and the AWS SDK retries it`, 0, this.now(), 'stalled');
  }

  succeeded(operation: Operation): void {
    const streak = this.streaks.get(operation);
    if (!streak) return;
    this.streaks.delete(operation);
    for (const kind of FAULT_KINDS) this.quiet.delete(`${operation} ${kind}`);
    const failedForS = Math.round((this.now() - streak.since) / 1000);
    this.logger.info({ operation, failures: streak.failures, failedForS }, `${operation} works again, after ${streak.failures} failed calls in ${failedForS} s`);
  }

  isFailing(operation: Operation): boolean {
    return this.streaks.has(operation);
  }

  /** The first of `operations` that has failed with no success for longer than `ms`. */
  failingLongerThan(ms: number, operations: readonly Operation[], now = this.now()): (Streak & { operation: Operation }) | undefined {
    for (const operation of operations) {
      const streak = this.streaks.get(operation);
      if (streak && now - streak.since > ms) return { operation, ...streak };
    }
    return undefined;
  }

  /** The first failure of an operation and kind at once; repeats summarised at a doubling interval. */
  private log(operation: string, kind: FaultKind | 'timeout', error: string, failingForMs: number, now: number, verb: 'failed' | 'stalled' = 'failed'): void {
    const key = `${operation} ${kind}`;
    const quiet = this.quiet.get(key);
    if (!quiet) {
      this.quiet.set(key, { nextLogAt: now + this.firstIntervalMs, intervalMs: this.firstIntervalMs, suppressed: 0 });
      this.logger.warn({ operation, kind, error }, `${operation} ${verb} (${kind}): ${error}`);
      return;
    }
    if (now < quiet.nextLogAt) {
      quiet.suppressed++;
      return;
    }
    const failingForS = Math.round(failingForMs / 1000);
    this.logger.warn(
      { operation, kind, error, failures: quiet.suppressed + 1, ...(verb === 'failed' ? { failingForS } : {}) },
      verb === 'failed'
        ? `${operation} still failing (${kind}) after ${failingForS} s: ${quiet.suppressed + 1} more failures since the last line; last: ${error}`
        : `${operation} stalled (${kind}) ${quiet.suppressed + 1} more times since the last line: ${error}`,
    );
    quiet.suppressed = 0;
    quiet.intervalMs = Math.min(quiet.intervalMs * 2, this.maxIntervalMs);
    quiet.nextLogAt = now + quiet.intervalMs;
  }
}
