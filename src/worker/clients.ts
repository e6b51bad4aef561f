// AWS clients as the worker uses them. The SDK honours AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_KINESIS
// and the standard credential chain.
//
// Lean, because every SQS message costs the worker 0.2 calls (a receive of 10, a delete of 10) and the
// SDK's per-call machinery was half of the worker's CPU (bench/RESULTS.md, "End to end"):
// - HTTP/1.1 with keep-alive (Kinesis's default HTTP/2 handler fails against plain-HTTP endpoints
//   such as kinesis-local; keep-alive HTTP/1.1 is what the KPL uses too), through a small handler that
//   reads each response into one buffer, with one deadline timer per request (the whole exchange, not
//   an idle socket: a peer that trickles or never answers is cut at the deadline, and the SDK retries
//   the attempt) where the SDK's handler arms four timers and socket options on every call;
// - the resolved middleware stack cached per command (the SDK's `cacheMiddleware`), instead of
//   re-sorting it on every call; the worker sends every call without per-call options (an abort
//   signal, say), since one such call re-resolves its stack and drops the cache of every command;
// - no SDK logger middleware: it has no logger here (the worker logs failures itself, in faults.ts),
//   yet it copies every input and output through the sensitive-data filter on every call. The SDK's
//   own warnings (the `logger` its middlewares warn through) go to our logger instead, once each;
// - one middleware of ours, outermost, that counts what the SDK retried (each response's or error's
//   `$metadata.attempts` and `totalRetryDelay`): its retries would otherwise hide most faults.
// Retries, signing, the body MD5 check on receive and the endpoint resolution are the SDK's, unchanged
// (the MD5 check costs ~10% of the worker's CPU in the e2e bench; it stays: a body changed on the way
// could still parse and validate, and would then publish a changed value).
import http from 'node:http';
import https from 'node:https';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';

/**
 * How long one attempt of an AWS call may take, connection to last byte, unless configured
 * (AWS_CALL_TIMEOUT_MS); a long poll gets its WaitTimeSeconds on top. Past it the attempt fails as a
 * retryable TimeoutError: the SDK's three attempts then end within about three times this.
 */
const AWS_CALL_TIMEOUT_MS = 5_000; // (config.ts awsCallTimeoutMs: the same default, kept there so that `map` loads no AWS client)

/** The request the SDK hands a handler (@smithy/types HttpRequest), as far as this handler reads it. */
interface SdkRequest {
  protocol: string;
  hostname: string;
  port?: number;
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

/** What the SDK takes back (an @smithy/types HttpResponse: it checks the shape, not the class). */
interface SdkResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Buffer;
}

const RETRYABLE_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function queryString(query: SdkRequest['query']): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === null) parts.push(encode(key));
    else for (const v of Array.isArray(value) ? value : [value]) parts.push(`${encode(key)}=${encode(v)}`);
  }
  return parts.join('&');
}

/** The operation a request is for, from its `x-amz-target` header (AWS JSON protocol: SQS, Kinesis, Secrets Manager). */
const operationOf = (request: SdkRequest): string => {
  const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
  return target.slice(target.lastIndexOf('.') + 1) || 'unknown';
};

/** A long poll's wait, in ms (ReceiveMessage's WaitTimeSeconds, read from its small JSON body: the SDK hands it over as bytes). */
function longPollMs(operation: string, body: unknown): number {
  if (operation !== 'ReceiveMessage') return 0;
  const text = typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1') : '';
  const wait = /"WaitTimeSeconds":\s*(\d+)/.exec(text);
  return wait ? Number(wait[1]) * 1000 : 0;
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('Request aborted', signal.reason instanceof Error ? { cause: signal.reason } : {}), { name: 'AbortError' });
}

/**
 * The SDK's request handler interface over node:http(s) and keep-alive agents: one request, its body
 * written at once, its response collected into one Buffer (the SDK's deserialisers take a Uint8Array
 * body as it is).
 */
export class LeanHttpHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(private readonly options: { timeoutMs?: number; calls?: AwsCalls } = {}) {}

  handle(request: SdkRequest, options: { abortSignal?: unknown } = {}): Promise<{ response: SdkResponse }> {
    // The worker passes Node's AbortSignal (the SDK's type also allows a legacy `onabort` one, which no caller here uses).
    const abortSignal = options.abortSignal as AbortSignal | undefined;
    return new Promise((resolve, reject) => {
      if (abortSignal?.aborted) return reject(abortError(abortSignal));
      const operation = operationOf(request);
      const deadlineMs = (this.options.timeoutMs ?? AWS_CALL_TIMEOUT_MS) + longPollMs(operation, request.body);
      const secure = request.protocol === 'https:';
      const query = request.query && Object.keys(request.query).length ? `?${queryString(request.query)}` : '';
      const req = (secure ? https : http).request(
        {
          host: request.hostname.startsWith('[') ? request.hostname.slice(1, -1) : request.hostname,
          port: request.port,
          method: request.method,
          path: request.path + query,
          headers: request.headers,
          agent: secure ? this.httpsAgent : this.httpAgent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', fail);
          res.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
            done();
            resolve({ response: { statusCode: res.statusCode ?? -1, reason: res.statusMessage, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) } });
          });
        },
      );
      function fail(err: NodeJS.ErrnoException): void {
        done();
        reject(RETRYABLE_SOCKET_ERRORS.has(err.code ?? '') ? Object.assign(err, { name: 'TimeoutError' }) : err);
      }
      const onAbort = () => req.destroy(abortError(abortSignal!));
      const calls = this.options.calls;
      const deadline = setTimeout(() => {
        calls?.timedOut(operation, deadlineMs);
        req.destroy(Object.assign(new Error(`no answer within ${deadlineMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' }));
      }, deadlineMs);
      function done(): void {
        clearTimeout(deadline);
        abortSignal?.removeEventListener('abort', onAbort);
      }
      req.on('error', fail);
      abortSignal?.addEventListener('abort', onAbort, { once: true });
      const body = request.body;
      if (body === undefined || body === null || body === '') req.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
      else if (body instanceof Uint8Array) req.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      else {
        done();
        req.destroy();
        reject(new Error('LeanHttpHandler: streaming request bodies are not supported'));
      }
    });
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

export interface ClientOptions {
  region: string;
  sqsEndpoint?: string;
  kinesisEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** One attempt's deadline (AWS_CALL_TIMEOUT_MS); a long poll gets its wait on top. */
  callTimeoutMs?: number;
  /** Where the SDK's retries and the attempts cut at their deadline are counted (one per process, shared by its clients). */
  calls?: AwsCalls;
  /** Where the SDK's own warnings go (once each); without one, the SDK writes them to the console. */
  logger?: Logger;
}

interface Counted {
  /** Attempts the SDK made again (a call's attempts − 1, summed). */
  retries: number;
  /** What the SDK waited between attempts, in ms. */
  retryDelayMs: number;
  /** Attempts cut at their deadline (no answer in time). */
  timeouts: number;
}

/** Bounded by the SDK's operations; a limit all the same, since the names come from headers. */
const MAX_OPERATIONS = 64;

/**
 * What the SDK did beyond what the caller sees, per operation: attempts it retried, the delay it
 * waited, and attempts our handler cut at their deadline (`onTimeout` hears of each: faults.ts logs them).
 */
export class AwsCalls {
  readonly byOperation = new Map<string, Counted>();
  onTimeout?: (operation: string, ms: number) => void;

  private counted(operation: string): Counted | undefined {
    let c = this.byOperation.get(operation);
    if (!c && this.byOperation.size < MAX_OPERATIONS) this.byOperation.set(operation, (c = { retries: 0, retryDelayMs: 0, timeouts: 0 }));
    return c;
  }

  /** A call's outcome metadata (on its output or its error). */
  finished(operation: string, metadata: { attempts?: number; totalRetryDelay?: number } | undefined): void {
    const attempts = metadata?.attempts ?? 1;
    if (attempts <= 1) return;
    const c = this.counted(operation);
    if (!c) return;
    c.retries += attempts - 1;
    c.retryDelayMs += metadata?.totalRetryDelay ?? 0;
  }

  timedOut(operation: string, ms: number): void {
    const c = this.counted(operation);
    if (c) c.timeouts++;
    this.onTimeout?.(operation, ms);
  }

  /** Totals over every operation. */
  totals(): Counted {
    const t = { retries: 0, retryDelayMs: 0, timeouts: 0 };
    for (const c of this.byOperation.values()) {
      t.retries += c.retries;
      t.retryDelayMs += c.retryDelayMs;
      t.timeouts += c.timeouts;
    }
    return t;
  }
}

type Metadata = { $metadata?: { attempts?: number; totalRetryDelay?: number } };

/** Outermost on the stack (outside the SDK's retries): each call's attempts and retry delay, as the SDK reports them. */
function countRetries(calls: AwsCalls) {
  return (next: (args: unknown) => Promise<{ output: Metadata }>, context: { commandName?: string }) =>
    async (args: unknown) => {
      const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
      try {
        const result = await next(args);
        calls.finished(operation, result.output?.$metadata);
        return result;
      } catch (err) {
        calls.finished(operation, (err as Metadata)?.$metadata);
        throw err;
      }
    };
}

/** Distinct SDK warnings at most (each logged once); a bound all the same, since they quote queue URLs. */
const MAX_SDK_WARNINGS = 100;

/**
 * The SDK's logger interface over ours: its warnings and errors (e.g. the SQS middleware's "QueueUrl=…
 * differs from SQSClient resolved endpoint=…", two lines, on every call) as one JSON line, once per
 * distinct text; its debug and info chatter dropped.
 */
export function sdkLogger(logger: Logger): Record<'trace' | 'debug' | 'info' | 'warn' | 'error', (...content: unknown[]) => void> {
  const seen = new Set<string>();
  const once = (level: 'warn' | 'error') => (...content: unknown[]) => {
    const text = content.map((c) => (c instanceof Error ? `${c.name}: ${c.message}` : String(c))).join(' ').replace(/\s*\n\s*/g, ' ');
    if (seen.has(text) || seen.size >= MAX_SDK_WARNINGS) return;
    seen.add(text);
    logger[level]({ source: 'aws-sdk' }, text);
  };
  const ignore = () => {};
  return { trace: ignore, debug: ignore, info: ignore, warn: once('warn'), error: once('error') };
}

/** What every client of ours gets: the lean handler with its deadline, the cached stack, our retry count, our logger for the SDK's warnings. */
export function clientConfig(o: Omit<ClientOptions, 'sqsEndpoint' | 'kinesisEndpoint'>, calls = o.calls ?? new AwsCalls()) {
  return {
    region: o.region,
    cacheMiddleware: true,
    requestHandler: new LeanHttpHandler({ timeoutMs: o.callTimeoutMs, calls }),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    ...(o.logger ? { logger: sdkLogger(o.logger) } : {}),
  };
}

/** Our changes to a client's middleware stack, made before its first call (the cached stacks are resolved then). */
export function leanStack(client: { middlewareStack: { remove(name: string): boolean; add(middleware: never, options: { step: 'initialize'; priority: 'high'; name: string }): void } }, calls: AwsCalls = new AwsCalls()): void {
  client.middlewareStack.remove('loggerMiddleware');
  client.middlewareStack.add(countRetries(calls) as never, { step: 'initialize', priority: 'high', name: 'canvasCaliperRetryCount' });
}

export function createClients(o: ClientOptions): { sqs: SQSClient; kinesis: KinesisClient; calls: AwsCalls } {
  const calls = o.calls ?? new AwsCalls();
  const sqs = new SQSClient({ ...clientConfig(o, calls), ...(o.sqsEndpoint ? { endpoint: o.sqsEndpoint } : {}) });
  const kinesis = new KinesisClient({ ...clientConfig(o, calls), ...(o.kinesisEndpoint ? { endpoint: o.kinesisEndpoint } : {}) });
  for (const client of [sqs, kinesis]) leanStack(client, calls);
  return { sqs, kinesis, calls };
}
