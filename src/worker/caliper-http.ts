// The Caliper Sensor API as a sink: records are grouped by sensor and dataVersion into envelopes of
// many events (≤ HTTP_BATCH_MAX_EVENTS, ≤ HTTP_BATCH_MAX_BYTES, or after HTTP_BATCH_LINGER_MS), POSTed
// as application/json with `Authorization: Bearer <token>`, HTTP_MAX_IN_FLIGHT requests at once over
// keep-alive connections (an undici Pool). `put` resolves once the endpoint answered 2xx for the
// envelope that carried the record. On each answer:
// - 2xx (202 too): accepted, as soon as its status is in; a body cut off after it changes nothing.
// - 429, 5xx, 408, a timeout, a connection error, a redirect (never followed) or any other status:
//   retried with back-off and jitter (at least Retry-After) until the record's deadline, then a
//   PublishError (the message stays in SQS; when Retry-After reaches past the deadline, the error
//   carries it and the message comes back when the endpoint asked).
// - 400, 413, 415, 422: the envelope is split in two and each half sent again, until the one record
//   the endpoint refuses is alone: that one gets a RefusedError (status + the answer's first 500 bytes,
//   every secret taken out first), the others are delivered once.
// - 401, 403: the token source is told (a secret is read again, an OAuth token fetched anew) and the
//   envelope resent, once; refused again, the sink is blocked: every record waiting gets a
//   PublishError (released to SQS, nothing to the DLQ) and the worker stops consuming. A token source
//   whose issuer refuses our client (TokenError, blocking) blocks it too.
// Every request has one deadline for its whole exchange, headers and body: HTTP_TIMEOUT_MS, or sooner
// the earliest deadline of the records it carries (a trickling answer is aborted, counted, retried).
import { Pool } from 'undici';
import { serializeIn } from '../formats/index.js';
import { backoffMs, IdleWaiters } from './backoff.js';
import { describeError, type CallReport } from './faults.js';
import { queryValues, redact, redactAndCut } from './redact.js';
import { PublishError, RefusedError, type Sink, type SinkMetric } from './sink.js';
import { retryAfterOf, TokenError, type TokenSource } from './token.js';

export interface CaliperHttpOptions {
  url: string;
  token: TokenSource;
  /** Extra request headers (CALIPER_ENDPOINT_HEADERS); their values are kept out of reasons too. */
  headers?: Record<string, string>;
  timeoutMs: number;
  maxEvents: number;
  maxBytes: number;
  lingerMs: number;
  maxInFlight: number;
  onRetry?: (reason: string) => void;
  faults?: CallReport;
}

/** The statuses that mean "this envelope holds something the endpoint refuses": split to find it. */
export const REFUSING = new Set([400, 413, 415, 422]);
/** The statuses that mean "our credentials": refresh the token once, then block. */
export const CREDENTIALS = new Set([401, 403]);
/** How much of a refusing answer goes into the DLQ reason. */
export const REASON_BYTES = 500;
/** How much of a refusing answer is read (and redacted) before it is cut to REASON_BYTES. */
const READ_BYTES = 64 * 1024;

/** A request is sent only with this much of its deadline left. */
const MIN_EXCHANGE_MS = 20;

/** `{`, `,"sendTime":"…"`, `,"data":[`, `]}`. */
const ENVELOPE_BYTES = 50;

interface Pending {
  /** The bytes of the record's `data` elements (one event, or a passed-through envelope's events): a view of the record. */
  events: Buffer;
  /** `"sensor":…,` up to `"dataVersion":…` as JSON text: what groups records into one envelope. */
  group: string;
  bytes: number;
  attempt: number;
  deadline: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

type Outcome = { ok: true } | { ok: false; status?: number; reason: string; retryAfterMs?: number };

/** What to check when the endpoint refuses even a token read or fetched anew. */
const CHECK_TOKEN = 'check the token (CALIPER_ENDPOINT_TOKEN, the secret, or the OAuth client and CALIPER_ENDPOINT_SCOPE) and that CALIPER_ENDPOINT_URL is the endpoint it is for';

/** A header longer than this (a sensor IRI of kilobytes) takes the parsing path. */
const HEADER_BYTES = 2048;
const HEADER = /^\{"sensor":("(?:[^"\\]|\\.)*"),"sendTime":"(?:[^"\\]|\\.)*","dataVersion":("(?:[^"\\]|\\.)*"),"data":\[/;

/**
 * A record's group (its envelope's properties but sendTime and data, as JSON text) and the text of its
 * data elements. decode.ts writes every record with `data` last: when the header is the usual three
 * strings the split is textual (a `"data":[` cannot occur inside a JSON string, so the first one is
 * the envelope's own), else the record is parsed and its events written again in its dataVersion.
 */
export function splitRecord(record: Buffer): { group: string; events: Buffer } {
  // Only the header is decoded; the events stay the record's bytes (a view, no copy).
  const m = HEADER.exec(record.toString('utf8', 0, Math.min(record.length, HEADER_BYTES)));
  if (m && record[record.length - 2] === 0x5d && record[record.length - 1] === 0x7d) {
    return { group: `"sensor":${m[1]},"dataVersion":${m[2]}`, events: record.subarray(Buffer.byteLength(m[0]), record.length - 2) };
  }
  const envelope = JSON.parse(record.toString('utf8')) as Record<string, unknown>;
  const { data, sendTime: _sendTime, ...header } = envelope;
  if (!Array.isArray(data) || typeof header.dataVersion !== 'string') throw new PublishError('a record for the Caliper endpoint must be an envelope with a dataVersion and data');
  return { group: JSON.stringify(header).slice(1, -1), events: Buffer.from(data.map((e) => serializeIn(header.dataVersion as string, e)).join(',')) };
}

export class CaliperHttpSink implements Sink {
  private blockedBy: string | undefined;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly groups = new Map<string, { items: Pending[]; bytes: number }>();
  private timer: NodeJS.Timeout | undefined;
  private calls = 0;
  private retrying = new Set<{ timer: NodeJS.Timeout; p: Pending }>();
  private readonly idle = new IdleWaiters(() => this.busy);
  /** Bumped on each token refresh: an envelope refused with an older token is simply resent. */
  private generation = 0;
  /** A refresh was made and no envelope has been accepted since: the next 401/403 blocks. */
  private refreshedSinceSuccess = false;
  /** The URL's query values and the extra headers' values: secrets of ours besides the token source's. */
  private readonly ownSecrets: string[];
  private readonly statuses = new Map<string, number>();
  private bytesSent = 0;
  private latencyMsSum = 0;
  private refusedEvents = 0;
  private splits = 0;

  constructor(private readonly o: CaliperHttpOptions) {
    const url = new URL(o.url);
    this.path = url.pathname + url.search;
    this.ownSecrets = [...queryValues(o.url), ...Object.values(o.headers ?? {})];
    o.token.reportTo?.(o.faults);
    this.pool = new Pool(url.origin, {
      connections: o.maxInFlight,
      pipelining: 1,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      keepAliveTimeout: 30_000,
      // TLS verification always on, whatever NODE_TLS_REJECT_UNAUTHORIZED says.
      connect: { rejectUnauthorized: true, timeout: o.timeoutMs },
    });
  }

  /** Why the sink sends nothing more (the endpoint refused our credentials after a refresh), or undefined. */
  get blocked(): string | undefined {
    return this.blockedBy;
  }

  put(record: Buffer, _key: string, deadline: number): Promise<void> {
    if (this.blocked) return Promise.reject(new PublishError(`not sent: ${this.blocked}`));
    let split: { group: string; events: Buffer };
    try {
      split = splitRecord(record);
    } catch (err) {
      return Promise.reject(err instanceof PublishError ? err : new PublishError(`not an envelope: ${(err as Error).message}`));
    }
    return new Promise((resolve, reject) => {
      this.enqueue({ ...split, bytes: split.events.length + 1, attempt: 0, deadline, resolve, reject });
    });
  }

  private get busy(): boolean {
    return this.groups.size > 0 || this.calls > 0 || this.retrying.size > 0;
  }

  async drain(): Promise<void> {
    this.flush();
    await this.idle.until();
  }

  /** Closes the connections: at once when requests are still open (a shutdown past its timeout must not wait for them). */
  async close(): Promise<void> {
    await (this.busy ? this.pool.destroy() : this.pool.close());
  }

  private enqueue(p: Pending): void {
    if (this.blocked) return p.reject(new PublishError(`not sent: ${this.blocked}`));
    let g = this.groups.get(p.group);
    if (g && g.bytes + p.bytes > this.o.maxBytes) this.flush();
    g = this.groups.get(p.group);
    // The envelope's own bytes (its properties, sendTime, data's brackets) count from the start.
    if (!g) this.groups.set(p.group, (g = { items: [], bytes: Buffer.byteLength(p.group) + ENVELOPE_BYTES }));
    g.items.push(p);
    g.bytes += p.bytes;
    if (g.items.length >= this.o.maxEvents) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.o.lingerMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [group, g] of this.groups) {
      while (g.items.length && this.calls < this.o.maxInFlight) {
        const batch: Pending[] = [];
        let bytes = Buffer.byteLength(group) + ENVELOPE_BYTES;
        while (g.items.length && batch.length < this.o.maxEvents && (batch.length === 0 || bytes + g.items[0]!.bytes <= this.o.maxBytes)) {
          const p = g.items.shift()!;
          bytes += p.bytes;
          batch.push(p);
        }
        g.bytes -= bytes - Buffer.byteLength(group) - ENVELOPE_BYTES;
        this.calls++;
        void this.deliver(group, batch).finally(() => {
          this.calls--;
          if (this.groups.size) this.flush();
          this.idle.check();
        });
      }
      if (!g.items.length) this.groups.delete(group);
    }
    if (this.groups.size && !this.timer) this.timer = setTimeout(() => this.flush(), this.o.lingerMs);
  }

  /** One envelope, and what its answer means for each of its records (splitting a refused one). */
  private async deliver(group: string, batch: Pending[], authTries = 0): Promise<void> {
    if (this.blocked) return this.rejectAll(batch);
    const generation = this.generation;
    // The whole exchange ends by the earliest deadline of the records it carries.
    const deadline = Math.min(...batch.map((p) => p.deadline));
    let token: string;
    try {
      token = await this.o.token.token(deadline);
    } catch (err) {
      const e = err instanceof TokenError ? err : new TokenError(describeError(err), false);
      if (e.blocking) {
        this.block(e.message);
        return this.rejectAll(batch);
      }
      for (const p of batch) this.retry(p, redact(e.message, this.secrets()), e.retryAfterMs);
      return;
    }
    // Too little of the budget left for any answer: not sent (a 1-ms request would only time out).
    if (deadline - Date.now() < MIN_EXCHANGE_MS) {
      for (const p of batch) this.retry(p, 'the retry budget ran out before the request could be sent');
      return;
    }
    const outcome = await this.post(group, batch, token, deadline);
    if (outcome.ok) {
      this.refreshedSinceSuccess = false;
      for (const p of batch) p.resolve();
      return;
    }
    const { status, reason } = outcome;
    if (status !== undefined && CREDENTIALS.has(status)) {
      // Refused with the current token: the source reads or fetches it anew, once; refused again (this
      // envelope, or any since), block. Refused with a token replaced since: resent with the new one.
      if (generation === this.generation) {
        if (authTries > 0 || this.refreshedSinceSuccess) this.block(`the Caliper endpoint refused our credentials (HTTP ${status}), also with a token read or fetched anew: ${CHECK_TOKEN}`);
        else {
          this.o.token.invalidate(token);
          this.generation++;
          this.refreshedSinceSuccess = true;
        }
      }
      return this.deliver(group, batch, authTries + 1);
    }
    if (status !== undefined && REFUSING.has(status)) {
      if (batch.length > 1) {
        this.splits++;
        const half = Math.ceil(batch.length / 2);
        await Promise.all([this.deliver(group, batch.slice(0, half)), this.deliver(group, batch.slice(half))]);
        return;
      }
      this.refusedEvents += batch.length;
      for (const p of batch) p.reject(new RefusedError(status, `the Caliper endpoint refused this event: HTTP ${status}: ${reason}`));
      return;
    }
    for (const p of batch) this.retry(p, reason, outcome.retryAfterMs);
  }

  private block(reason: string): void {
    if (this.blockedBy) return;
    this.blockedBy = reason;
    this.o.faults?.failed('PostEnvelope', Object.assign(new Error(reason), { name: 'Unauthorized', $metadata: { httpStatusCode: 401 } }));
    for (const g of this.groups.values()) this.rejectAll(g.items);
    this.groups.clear();
    for (const r of this.retrying) {
      clearTimeout(r.timer);
      this.rejectAll([r.p]);
    }
    this.retrying.clear();
    this.idle.check();
  }

  private rejectAll(batch: Pending[]): void {
    for (const p of batch) p.reject(new PublishError(`not sent: ${this.blocked}`));
  }

  /** Every secret we hold now: the token source's, the URL's query values, the extra headers' values. */
  private secrets(): string[] {
    return [...this.o.token.secrets(), ...this.ownSecrets];
  }

  /** One POST, its whole exchange by `deadline` (at most HTTP_TIMEOUT_MS): its outcome, never throwing; the reason holds no secret. */
  private async post(group: string, batch: Pending[], token: string, deadline: number): Promise<Outcome> {
    const body = envelopeBody(group, batch.map((p) => p.events));
    const started = Date.now();
    this.bytesSent += body.length;
    const abort = new AbortController();
    const limitMs = Math.max(1, Math.min(this.o.timeoutMs, deadline - started));
    const timer = setTimeout(() => abort.abort(), limitMs);
    let answered = false;
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: { ...this.o.headers, 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
        signal: abort.signal,
      });
      const status = res.statusCode;
      this.count(String(status));
      this.latencyMsSum += Date.now() - started;
      if (status >= 200 && status < 300) {
        // Delivered once the status is in: the body is read and dropped (within the deadline), and a body cut off changes nothing.
        answered = true;
        void res.body
          .dump({ limit: READ_BYTES })
          .catch(() => undefined)
          .finally(() => clearTimeout(timer));
        this.o.faults?.succeeded('PostEnvelope');
        return { ok: true };
      }
      const { text, truncated } = await firstBytes(res.body, READ_BYTES);
      const said = status >= 300 && status < 400 ? `redirect to ${String(res.headers.location)} (not followed)` : text || '(no body)';
      // Every secret out of the whole text first, then cut: a secret across the cut would be left in part.
      const reason = redactAndCut(said, this.secrets(), REASON_BYTES, truncated);
      if (!REFUSING.has(status)) this.o.faults?.failed('PostEnvelope', Object.assign(new Error(`HTTP ${status}: ${redactAndCut(reason, [], 200)}`), { name: `HTTP${status}`, $metadata: { httpStatusCode: status } }));
      const retryAfter = res.headers['retry-after'];
      return { ok: false, status, reason, retryAfterMs: status === 429 || status === 503 ? retryAfterOf(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) : undefined };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const timeout = abort.signal.aborted || /TIMEOUT/.test(e.code ?? '');
      this.count(timeout ? 'timeout' : 'error');
      this.latencyMsSum += Date.now() - started;
      const reason = redact(abort.signal.aborted ? `no complete answer within ${limitMs} ms (the whole exchange's deadline)` : `${e.code ?? e.name}: ${e.message}`, this.secrets());
      this.o.faults?.failed('PostEnvelope', Object.assign(new Error(reason), { name: timeout ? 'TimeoutError' : (e.code ?? e.name) }));
      return { ok: false, reason };
    } finally {
      if (!answered) clearTimeout(timer);
    }
  }

  private count(status: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  private retry(p: Pending, reason: string, retryAfterMs = 0): void {
    const delay = Math.max(backoffMs(p.attempt++, 100, 5_000), retryAfterMs);
    if (Date.now() + delay >= p.deadline) {
      // A Retry-After past the deadline is the endpoint's ask: the message comes back then, not after the usual back-off.
      const asked = retryAfterMs > 0 && Date.now() + retryAfterMs >= p.deadline ? retryAfterMs : undefined;
      const why = asked ? `the Caliper endpoint asked to be tried again in ${Math.ceil(asked / 1000)} s, past the retry budget` : 'not accepted by the Caliper endpoint within the retry budget';
      p.reject(new PublishError(`${why} (${p.attempt} attempts; last: ${redactAndCut(reason, [], 300)})`, asked));
      return;
    }
    this.o.onRetry?.(reason);
    const entry = {
      p,
      timer: setTimeout(() => {
        this.retrying.delete(entry);
        this.enqueue(p);
        this.idle.check();
      }, delay),
    };
    this.retrying.add(entry);
  }

  metrics(): SinkMetric[] {
    const byClass = (c: string) => [...this.statuses].filter(([s]) => s[0] === c).reduce((n, [, v]) => n + v, 0);
    const requests = [...this.statuses.values()].reduce((n, v) => n + v, 0);
    return [
      ...[...this.statuses].map(([status, value]): SinkMetric => ({ name: 'http_requests_total', labels: { status }, value, kind: 'counter', unit: 'Count' })),
      { name: 'http_requests_2xx_total', emf: 'Http2xx', value: byClass('2'), kind: 'counter', unit: 'Count' },
      { name: 'http_requests_4xx_total', emf: 'Http4xx', value: byClass('4'), kind: 'counter', unit: 'Count' },
      { name: 'http_requests_5xx_total', emf: 'Http5xx', value: byClass('5'), kind: 'counter', unit: 'Count' },
      { name: 'http_requests_429_total', emf: 'Http429', value: this.statuses.get('429') ?? 0, kind: 'counter', unit: 'Count' },
      { name: 'http_requests_failed_total', emf: 'HttpFailed', value: (this.statuses.get('timeout') ?? 0) + (this.statuses.get('error') ?? 0), kind: 'counter', unit: 'Count' },
      { name: 'http_request_count', emf: 'HttpRequests', value: requests, kind: 'counter', unit: 'Count' },
      { name: 'http_request_duration_milliseconds_sum', emf: 'HttpLatencyMsSum', value: this.latencyMsSum, kind: 'counter', unit: 'Milliseconds' },
      { name: 'http_sent_bytes_total', emf: 'HttpBytes', value: this.bytesSent, kind: 'counter', unit: 'Bytes' },
      { name: 'http_refused_events_total', emf: 'RefusedByEndpoint', value: this.refusedEvents, kind: 'counter', unit: 'Count' },
      { name: 'http_splits_total', value: this.splits, kind: 'counter', unit: 'Count' },
      { name: 'http_blocked', emf: 'SinkBlocked', value: this.blocked ? 1 : 0, kind: 'gauge', unit: 'Count' },
    ];
  }
}

const COMMA = Buffer.from(',');
const END = Buffer.from(']}');

/** One envelope of many records' events: the group's properties, sendTime now, data last; one copy of the events' bytes. */
export function envelopeBody(group: string, events: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`{${group},"sendTime":"${new Date().toISOString()}","data":[`)];
  for (const [i, e] of events.entries()) {
    if (i) parts.push(COMMA);
    parts.push(e);
  }
  parts.push(END);
  return Buffer.concat(parts);
}

/** The first `limit` bytes of a body as text, and whether there was more; the rest is read and dropped (the connection stays reusable). */
async function firstBytes(body: AsyncIterable<Buffer>, limit: number): Promise<{ text: string; truncated: boolean }> {
  const kept: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) kept.push(chunk.subarray(0, limit - size));
    size += chunk.length;
  }
  return { text: Buffer.concat(kept).toString('utf8').replace(/\uFFFD$/, ''), truncated: size > limit };
}
