// AWS clients as the worker uses them. The SDK honours AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_KINESIS
// and the standard credential chain.
//
// Lean, because every SQS message costs the worker 0.2 calls (a receive of 10, a delete of 10) and the
// SDK's per-call machinery was half of the worker's CPU (bench/RESULTS.md, "End to end"):
// - HTTP/1.1 with keep-alive (Kinesis's default HTTP/2 handler fails against plain-HTTP endpoints
//   such as kinesis-local; keep-alive HTTP/1.1 is what the KPL uses too), through a small handler that
//   reads each response into one buffer, with one idle timer per request where the SDK's handler arms
//   four timers and socket options on every call;
// - the resolved middleware stack cached per command (the SDK's `cacheMiddleware`), instead of
//   re-sorting it on every call; the worker sends every call without per-call options (an abort
//   signal, say), since one such call re-resolves its stack and drops the cache of every command;
// - no SDK logger middleware: it has no logger here (the worker logs failures itself, in faults.ts),
//   yet it copies every input and output through the sensitive-data filter on every call.
// Retries, signing, the body MD5 check on receive and the endpoint resolution are the SDK's, unchanged
// (the MD5 check costs ~10% of the worker's CPU in the e2e bench; it stays: a body changed on the way
// could still parse and validate, and would then publish a changed value).
import http from 'node:http';
import https from 'node:https';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';

/** No byte for this long on a request's socket: the request fails (as a retryable TimeoutError). Above SQS's 20 s long poll. */
export const SOCKET_IDLE_TIMEOUT_MS = 60_000;

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

  constructor(private readonly idleTimeoutMs = SOCKET_IDLE_TIMEOUT_MS) {}

  handle(request: SdkRequest, options: { abortSignal?: unknown } = {}): Promise<{ response: SdkResponse }> {
    // The worker passes Node's AbortSignal (the SDK's type also allows a legacy `onabort` one, which no caller here uses).
    const abortSignal = options.abortSignal as AbortSignal | undefined;
    return new Promise((resolve, reject) => {
      if (abortSignal?.aborted) return reject(abortError(abortSignal));
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
      function done(): void {
        abortSignal?.removeEventListener('abort', onAbort);
      }
      req.on('error', fail);
      abortSignal?.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(this.idleTimeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${this.idleTimeoutMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' })));
      const body = request.body;
      if (body === undefined || body === null || body === '') req.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
      else if (body instanceof Uint8Array) req.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      else {
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
}

export function createClients(o: ClientOptions): { sqs: SQSClient; kinesis: KinesisClient } {
  const common = { region: o.region, cacheMiddleware: true, ...(o.credentials ? { credentials: o.credentials } : {}) };
  const sqs = new SQSClient({ ...common, requestHandler: new LeanHttpHandler(), ...(o.sqsEndpoint ? { endpoint: o.sqsEndpoint } : {}) });
  const kinesis = new KinesisClient({ ...common, requestHandler: new LeanHttpHandler(), ...(o.kinesisEndpoint ? { endpoint: o.kinesisEndpoint } : {}) });
  for (const client of [sqs, kinesis]) client.middlewareStack.remove('loggerMiddleware');
  return { sqs, kinesis };
}
