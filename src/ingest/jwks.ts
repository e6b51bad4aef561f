// The JWK set the signatures are verified against: read over HTTPS (TLS verification always on, whatever
// NODE_TLS_REJECT_UNAUTHORIZED says: it is the trust anchor of every event), at most JWKS_MAX_BYTES, and
// kept. A request never waits for the JWKS while usable keys are held: keys older than the cache age are
// re-read in the background and still used, for up to the stale age, so a JWKS outage or a JWKS that
// hangs costs nothing until then. Only a token naming a `kid` the held keys lack waits for a re-read (at
// most once per cooldown: a new signing key is picked up without a restart). The keys themselves are
// jose's (createLocalJWKSet picks the key for the header and imports it).
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';

/** A JWKS is a few keys (Instructure's: a few kB); larger is not one. */
export const JWKS_MAX_BYTES = 1024 * 1024;

/** The whole exchange (connect, answer, body) of one read. */
export const JWKS_TIMEOUT_MS = 5_000;

export interface JwksOptions {
  url: string;
  /** Keys older than this are re-read in the background. */
  cacheMaxAgeS: number;
  /** …and still used for this long past the cache age while they cannot be re-read. */
  staleMaxAgeS: number;
  /** At most one re-read per cooldown for an unknown kid or after a failed read. */
  cooldownS: number;
  logger?: Logger;
  timeoutMs?: number;
  maxBytes?: number;
}

/** The JWKS cannot be read now (and no usable keys are held): not the sender's fault; it may retry. */
export class JwksUnavailable extends Error {
  override readonly name = 'JwksUnavailable';
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

export class RemoteJwks {
  private held: { set: LocalSet; keys: JSONWebKeySet['keys']; readAt: number } | undefined;
  private reading: Promise<void> | undefined;
  private lastAttempt = -Infinity;
  private lastError: JwksUnavailable | undefined;
  // Its own connection pool: TLS verification on, not the process's default (which the environment can turn off).
  private readonly dispatcher = new Agent({ connect: { rejectUnauthorized: true } });
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(private readonly o: JwksOptions) {
    this.timeoutMs = o.timeoutMs ?? JWKS_TIMEOUT_MS;
    this.maxBytes = o.maxBytes ?? JWKS_MAX_BYTES;
  }

  /** The key for a token's header (jwtVerify's key function). */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    const now = Date.now();
    const age = this.held ? now - this.held.readAt : Infinity;
    if (age > (this.o.cacheMaxAgeS + this.o.staleMaxAgeS) * 1000) await this.readNowOrFail(now);
    else if (age > this.o.cacheMaxAgeS * 1000 && this.mayRead(now)) void this.reload().catch(() => {});
    try {
      return await this.held!.set(header, token);
    } catch (err) {
      // A kid the held keys lack may be a new key: read again (or wait for the read under way), at most once per cooldown.
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      if (this.reading) await this.reading;
      else if (this.mayRead(now)) await this.reload();
      else throw err;
      return this.held!.set(header, token);
    }
  };

  /** The held key with this kid, if any (to say why it did not fit a token). */
  keyWithKid(kid: unknown): JSONWebKeySet['keys'][number] | undefined {
    return typeof kid === 'string' ? this.held?.keys.find((k) => k.kid === kid) : undefined;
  }

  /** Reads the JWKS now (one read at a time: callers share it); rejects with a JwksUnavailable, keeping the held keys. */
  reload(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  /** Ends its connections, a read in flight included (close() would wait for it). */
  close(): Promise<void> {
    return this.dispatcher.destroy();
  }

  private mayRead(now: number): boolean {
    return !this.reading && now - this.lastAttempt >= this.o.cooldownS * 1000;
  }

  /** No usable keys: wait for a read, or fail at once while the last one failed within the cooldown. */
  private async readNowOrFail(now: number): Promise<void> {
    if (this.reading) return this.reading;
    if (this.lastError && !this.mayRead(now)) throw this.lastError;
    return this.reload();
  }

  private async read(): Promise<void> {
    this.lastAttempt = Date.now();
    try {
      const keys = await this.fetchKeys();
      const set = createLocalJWKSet({ keys });
      if (this.lastError) this.o.logger?.info({ jwks: this.o.url }, 'the JWKS can be read again');
      this.held = { set, keys, readAt: Date.now() };
      this.lastError = undefined;
    } catch (err) {
      const reason = err instanceof JwksUnavailable ? err.message : describe(err, this.timeoutMs);
      this.lastError = new JwksUnavailable(reason);
      const heldForS = this.held ? Math.round((Date.now() - this.held.readAt) / 1000) : undefined;
      this.o.logger?.warn(
        { jwks: this.o.url, error: reason, keysReadSecondsAgo: heldForS ?? null },
        heldForS === undefined
          ? `cannot read the JWKS (${reason}): tokens are answered 503 until it can be read`
          : `cannot read the JWKS (${reason}): verifying with the keys read ${heldForS} s ago (used up to JWKS_CACHE_MAX_AGE_S + JWKS_STALE_MAX_AGE_S after they were read)`,
      );
      throw this.lastError;
    }
  }

  /** One GET, its body read up to maxBytes, within timeoutMs; the keys of the set, or a JwksUnavailable saying why not. */
  private async fetchKeys(): Promise<JSONWebKeySet['keys']> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const res = await request(this.o.url, { dispatcher: this.dispatcher, signal, headers: { accept: 'application/json, application/jwk-set+json' } });
    const tooLarge = () => new JwksUnavailable(`the JWKS is over ${this.maxBytes} bytes`);
    // A body not read to its end is dropped (its connection closed): undici then reports an abort, which is ours.
    const drop = () => res.body.on('error', () => {}).destroy();
    if (res.statusCode !== 200) {
      drop();
      throw new JwksUnavailable(`HTTP ${res.statusCode}`);
    }
    if (Number(res.headers['content-length'] ?? 0) > this.maxBytes) {
      drop();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.maxBytes) {
        drop();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new JwksUnavailable('the JWKS is not JSON');
    }
    const keys = (doc as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new JwksUnavailable('the JWKS has no "keys" array');
    return keys as JSONWebKeySet['keys'];
  }
}

/** A read's failure in a few words: the network or TLS error's code, a timeout, or jose's reason. */
function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no complete answer within ${timeoutMs} ms`;
  if (err instanceof errors.JOSEError) return `not a usable JWK set: ${e.message}`;
  return e?.cause?.code ?? e?.code ?? e?.name ?? 'Error';
}
