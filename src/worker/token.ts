// Where the Caliper endpoint's bearer token comes from, behind one interface the sink uses without
// asking which:
// - a fixed token (CALIPER_ENDPOINT_TOKEN, `map --post`);
// - a Secrets Manager secret (CALIPER_ENDPOINT_TOKEN_SECRET_ARN), read at start and again once the
//   endpoint refused the token (the secret may have been rotated);
// - OAuth 2.0 client credentials (CALIPER_ENDPOINT_TOKEN_URL, RFC 6749 §4.4) through openid-client:
//   one token shared by every request, fetched once however many wait, renewed in the background
//   before it expires, fetched anew once the endpoint refused it; the token endpoint's 408/429/5xx and
//   timeouts retried with back-off inside the caller's deadline; any other refusal (invalid_client,
//   400, 401, …) is a TokenError that blocks the sink.
// Every secret a source holds is in `secrets()`, for redact.ts.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as oauth from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { backoffMs, sleep } from './backoff.js';
import type { CallReport } from './faults.js';
import { clientConfig, leanStack } from './clients.js';

export interface TokenSource {
  /** The token to send now. Rejects with a TokenError when none can be had by `deadline` (epoch ms). */
  token(deadline: number): Promise<string>;
  /** The endpoint refused `rejected` (401/403): the next token() reads or fetches anew, once however many report it. */
  invalidate(rejected: string): void;
  /** Every secret it holds (tokens, the client secret and its Basic credential): what redact() takes out. */
  secrets(): readonly string[];
  /** Where it reports its own failed calls (the sink's hooks). */
  reportTo?(faults: CallReport | undefined): void;
}

/**
 * No token could be had. `blocking`: the issuer refused our credentials (the sink stops; retrying
 * cannot help); else it failed for now (down, throttled, slow) and `retryAfterMs` says when to try again.
 */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    message: string,
    readonly blocking: boolean,
    readonly retryAfterMs?: number,
    /** The kind of failure for the fault counters (a Node error code, TimeoutError, HTTP503, …). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A token given as it is (CALIPER_ENDPOINT_TOKEN, `map --post`). */
export function staticToken(token: string): TokenSource {
  const now = Promise.resolve(token);
  return { token: () => now, invalidate: () => {}, secrets: () => [token] };
}

/**
 * The token in a Secrets Manager secret: its SecretString, either the token itself or a JSON object
 * with a `token` property. Read now (a failure is thrown, without the secret's value), and again on
 * the first token() after the endpoint refused it; a read that fails then keeps the token it has
 * (the endpoint's next refusal blocks the sink).
 */
export async function secretToken(client: SecretsManagerClient, secretId: string): Promise<TokenSource> {
  const read = async (): Promise<string> => tokenIn(await readSecret(client, secretId), secretId);
  let current = await read();
  const held = new Set([current]);
  let stale = false;
  let reading: Promise<string> | undefined;
  let faults: CallReport | undefined;
  return {
    async token() {
      if (!stale) return current;
      reading ??= read()
        .then(
          (token) => {
            faults?.succeeded('GetSecretValue');
            held.add((current = token));
            return token;
          },
          (err: unknown) => (faults?.failed('GetSecretValue', err), current),
        )
        .finally(() => {
          stale = false;
          reading = undefined;
        });
      return reading;
    },
    invalidate(rejected) {
      if (rejected === current) stale = true;
    },
    secrets: () => [...held],
    reportTo: (f) => void (faults = f),
  };
}

export async function readSecret(client: SecretsManagerClient, secretId: string): Promise<string | undefined> {
  return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}

function tokenIn(secret: string | undefined, secretId: string): string {
  const token = secretField(secret, secretId, 'token', 'the token, or {"token": "..."}');
  if (/[\r\n]/.test(token)) throw new Error(`the token in the secret ${secretId} has a line break in it`);
  return token;
}

/** A secret's SecretString: the value itself, or a JSON object's `field`; never quotes the value. */
export function secretField(secret: string | undefined, secretId: string, field: string, holds: string): string {
  const text = secret?.trim() ?? '';
  let value = text;
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`the secret ${secretId} starts with { but is not JSON (it must hold ${holds})`);
    }
    const inner = (parsed as Record<string, unknown>)[field];
    if (typeof inner !== 'string') throw new Error(`the secret ${secretId} is a JSON object without a "${field}" string`);
    value = inner.trim();
  }
  if (!value) throw new Error(`the secret ${secretId} holds no ${field} (SecretString is empty)`);
  return value;
}

/** Made as the SQS and Kinesis clients are (clients.ts): the lean handler with each attempt's deadline, no logger middleware. */
export function createSecretsClient(region: string, endpoint?: string): SecretsManagerClient {
  const client = new SecretsManagerClient({ ...clientConfig({ region }), ...(endpoint ? { endpoint } : {}) });
  leanStack(client);
  return client;
}

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  method: 'client_secret_basic' | 'client_secret_post';
  /** One token request's whole exchange at most (HTTP_TIMEOUT_MS). */
  timeoutMs: number;
}

/** The token endpoint's answers that mean "try again later": the rest refuse our client for good. */
const TRANSIENT_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;

/** openid-client's codes for a 200 whose body is no token response. */
const NOT_A_TOKEN = new Set(['OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_INVALID_RESPONSE', 'OAUTH_PARSE_ERROR']);

/** What to check, by the issuer's OAuth error code (RFC 6749 §5.2). */
const CHECK: Record<string, string> = {
  invalid_client: 'CALIPER_ENDPOINT_CLIENT_ID, the client secret and CALIPER_ENDPOINT_AUTH_METHOD',
  unauthorized_client: 'that the client may use the client_credentials grant (the platform’s client settings)',
  invalid_scope: 'CALIPER_ENDPOINT_SCOPE',
  unsupported_grant_type: 'that CALIPER_ENDPOINT_TOKEN_URL is the platform’s OAuth 2.0 token endpoint',
  invalid_grant: 'that CALIPER_ENDPOINT_TOKEN_URL is the platform’s OAuth 2.0 token endpoint',
};
const CHECK_ANY = 'CALIPER_ENDPOINT_TOKEN_URL, CALIPER_ENDPOINT_CLIENT_ID, the client secret, CALIPER_ENDPOINT_SCOPE and CALIPER_ENDPOINT_AUTH_METHOD';

/** How long a token is used, from its expires_in: renewed in the background from `renewAt`, not sent from `expiresAt`. */
export function lifetimeOf(expiresInS: number | undefined, obtainedAt: number): { renewAt: number; expiresAt: number } {
  if (expiresInS === undefined || !(expiresInS > 0)) return { renewAt: Infinity, expiresAt: Infinity };
  const ms = expiresInS * 1000;
  // A quarter of its life (at most 5 min) to renew it in; a tenth (at most 30 s) for clock skew and the request's way.
  return { renewAt: obtainedAt + ms - Math.min(ms / 4, 300_000), expiresAt: obtainedAt + ms - Math.min(ms / 10, 30_000) };
}

/**
 * The Authorization header's credential of client_secret_basic as openid-client sends it: id and
 * secret form-urlencoded (HTML 4.01: all but letters and digits as %HH, a space as +), then base64
 * (RFC 6749 §2.3.1). Held as a secret of its own: an echo of the header is taken out too.
 */
export const basicCredential = (id: string, secret: string): string => Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64');
const formEncode = (s: string) => encodeURIComponent(s).replace(/[-_.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');

/** TLS verified whatever NODE_TLS_REJECT_UNAUTHORIZED says; redirects are not followed (openid-client asks for manual). */
const verified = new Agent({ connect: { rejectUnauthorized: true } });

interface Held {
  token: string;
  renewAt: number;
  expiresAt: number;
}

/** OAuth 2.0 client credentials: see the top of this file. */
export class ClientCredentialsToken implements TokenSource {
  private held: Held | undefined;
  private fetching: Promise<void> | undefined;
  private refused: TokenError | undefined;
  private failures = 0;
  private retryAt = 0;
  private lastFailure = '';
  /** Tokens held lately (an endpoint may echo the one before), for redaction. */
  private readonly tokens: string[] = [];
  private faults: CallReport | undefined;
  private readonly where: string;
  private readonly auth: oauth.ClientAuth;

  constructor(private readonly o: ClientCredentials) {
    const url = new URL(o.tokenUrl);
    this.where = url.origin + url.pathname;
    this.auth = o.method === 'client_secret_post' ? oauth.ClientSecretPost(o.clientSecret) : oauth.ClientSecretBasic(o.clientSecret);
  }

  reportTo(faults: CallReport | undefined): void {
    this.faults = faults;
  }

  secrets(): readonly string[] {
    return [this.o.clientSecret, basicCredential(this.o.clientId, this.o.clientSecret), ...this.tokens];
  }

  invalidate(rejected: string): void {
    if (this.held?.token === rejected) this.held = undefined;
  }

  async token(deadline: number): Promise<string> {
    for (;;) {
      if (this.refused) throw this.refused;
      const now = Date.now();
      const held = this.held;
      if (held && now < held.renewAt) return held.token;
      if (held && now < held.expiresAt) {
        // Still good: sent as it is while its successor is fetched (a failure waits for the next try).
        if (!this.fetching && now >= this.retryAt) (this.fetching = this.fetchOnce(now + this.o.timeoutMs)).catch(() => undefined);
        return held.token;
      }
      await this.fetched(deadline);
    }
  }

  /** Waits for a token request (the one in flight, or a new one once its back-off allows) within `deadline`. */
  private async fetched(deadline: number): Promise<void> {
    const now = Date.now();
    if (!this.fetching) {
      if (now < this.retryAt) {
        // Our own back-off, not the issuer's ask: the messages come back after the usual release back-off.
        if (this.retryAt >= deadline) throw new TokenError(`no token from ${this.where} within the retry budget (last: ${this.lastFailure})`, false);
        return sleep(this.retryAt - now);
      }
      this.fetching = this.fetchOnce(Math.min(deadline, now + this.o.timeoutMs));
    }
    const timer = new AbortController();
    const waited = await Promise.race([this.fetching.then(() => true, () => true), sleep(Math.max(0, deadline - now), timer.signal).then(() => false)]);
    timer.abort();
    if (this.refused) throw this.refused;
    if (!waited || (Date.now() >= deadline && !this.held)) throw new TokenError(`no token from ${this.where} within the retry budget (last: ${this.lastFailure || 'the token request did not answer in time'})`, false);
  }

  /** One token request, whole exchange by `deadline`; its outcome is kept (the token, the back-off, or the refusal). */
  private fetchOnce(deadline: number): Promise<void> {
    const started = Date.now();
    const config = new oauth.Configuration({ issuer: new URL(this.o.tokenUrl).origin, token_endpoint: this.o.tokenUrl }, this.o.clientId, undefined, this.auth);
    // http only to loopback (the configuration's rule).
    if (this.o.tokenUrl.startsWith('http:')) oauth.allowInsecureRequests(config);
    // The whole exchange (headers and body) by the deadline: openid-client's own timeout is per Configuration, not per request.
    const late = AbortSignal.timeout(Math.max(1, deadline - started));
    config[oauth.customFetch] = ((url: string, init: RequestInit) =>
      undiciFetch(url, { ...(init as object), dispatcher: verified, signal: init.signal ? AbortSignal.any([init.signal, late]) : late })) as unknown as oauth.CustomFetch;
    const done = (async () => {
      try {
        const answer = await oauth.clientCredentialsGrant(config, this.o.scope ? { scope: this.o.scope } : {});
        if (answer.token_type !== 'bearer') throw new TokenError(`the token endpoint ${this.where} issued a "${answer.token_type.slice(0, 20)}" token, not a bearer token: check ${CHECK_ANY}`, true);
        this.tokens.push(answer.access_token);
        if (this.tokens.length > 8) this.tokens.shift();
        this.held = { token: answer.access_token, ...lifetimeOf(answer.expires_in, started) };
        this.failures = 0;
        this.retryAt = 0;
        this.faults?.succeeded('TokenRequest');
      } catch (err) {
        const failure = err instanceof TokenError ? err : late.aborted ? this.late() : this.failureOf(err);
        // A refusal blocks the sink, which reports it; a failure for now is reported here.
        if (failure.blocking) this.refused = failure;
        else {
          this.faults?.failed('TokenRequest', Object.assign(new Error(failure.message), { name: failure.code ?? 'IssuerUnavailable' }));
          this.lastFailure = failure.message;
          this.retryAt = Date.now() + Math.max(failure.retryAfterMs ?? 0, 100 + backoffMs(this.failures++, 200, 10_000));
        }
        throw failure;
      }
    })().finally(() => (this.fetching = undefined));
    return done;
  }

  private late(): TokenError {
    return new TokenError(`the token endpoint ${this.where} did not answer in time (the whole exchange's deadline)`, false, undefined, 'TimeoutError');
  }

  /** What a failed token request means: refused for good, or to be tried again (and when). Never quotes the issuer's words. */
  private failureOf(err: unknown): TokenError {
    const e = err as { status?: number; error?: unknown; name?: string; code?: string; cause?: unknown; response?: Response };
    const response = e.response ?? (e.cause instanceof Object && 'status' in e.cause && 'headers' in e.cause ? (e.cause as Response) : undefined);
    void response?.body?.cancel().catch(() => undefined);
    // A 200 that is not a token (HTML from a wrong URL, JSON without access_token): a configuration problem.
    if (NOT_A_TOKEN.has(e.code ?? '')) return new TokenError(`the token endpoint ${this.where} answered without a token: check ${CHECK_ANY}`, true);
    const status = e.status ?? response?.status;
    if (status === undefined) {
      const cause = (e.cause as { code?: string })?.code ?? e.code ?? e.name ?? 'Error';
      return new TokenError(`the token endpoint ${this.where} could not be reached (${cause})`, false, undefined, cause);
    }
    const code = typeof e.error === 'string' && /^[a-z_]{1,40}$/.test(e.error) ? e.error : undefined;
    const said = `HTTP ${status}${code ? ` ${code}` : ''}`;
    if (TRANSIENT_STATUS(status)) return new TokenError(`the token endpoint ${this.where} answered ${said}`, false, retryAfterOf(response?.headers.get('retry-after')), status === 429 ? 'Throttled' : `HTTP${status}`);
    return new TokenError(`the token endpoint ${this.where} refused our client credentials (${said}): check ${CHECK[code ?? ''] ?? CHECK_ANY}`, true);
  }
}

/** Retry-After in ms: seconds or an HTTP date. */
export function retryAfterOf(value: string | null | undefined, now = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
