// A signed HTTPS live event → the raw Canvas event it carries, or a refusal with its HTTP status and a
// one-line reason. The JOSE work is jose's: its remote JWK set (cached, refreshed when a token names a
// `kid` it does not hold, at most once per cooldown) and jwtVerify, limited to asymmetric algorithms.
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { isPlainObject } from '../json.js';

/** Why a request is refused: its HTTP status, a stable outcome (a metrics label) and a one-line reason. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly status: number,
    readonly outcome: Outcome,
    message: string,
  ) {
    super(message);
  }
}

/** Every way a request ends: its counter in /metrics and the EMF stats line. */
export const OUTCOMES = [
  'enqueued',
  'malformed_jwt',
  'bad_signature',
  'unknown_kid',
  'alg_not_allowed',
  'expired',
  'claims_invalid',
  'not_canvas_event',
  'too_large',
  'method_not_allowed',
  'not_found',
  'jwks_unavailable',
  'sqs_unavailable',
  'internal_error',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The JWT's registered claims (RFC 7519 §4.1): the signature's, not the event's; left out of the enqueued event. */
const REGISTERED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);

export interface VerifierOptions {
  jwksUrl: string;
  algorithms: string[];
  clockToleranceS: number;
  cooldownS: number;
  cacheMaxAgeS: number;
}

export interface CanvasEvent {
  /** The raw Canvas event: `{metadata, body}` as the SQS delivery carries it. */
  event: { metadata: Record<string, unknown>; body: Record<string, unknown> } & Record<string, unknown>;
  eventName: string;
}

/** A header value fit for a one-line reason: short, printable, never the token. */
const shown = (value: unknown): string => JSON.stringify(String(value).replace(/[^\x20-\x7e]/g, '?').slice(0, 64));

export type Verify = ((token: string) => Promise<CanvasEvent>) & {
  /** Fetches the JWKS now (at start: a wrong CANVAS_JWKS_URL shows in the log before Canvas posts). */
  warm(): Promise<void>;
};

export function createVerifier(o: VerifierOptions): Verify {
  const jwks = createRemoteJWKSet(new URL(o.jwksUrl), { cooldownDuration: o.cooldownS * 1000, cacheMaxAge: o.cacheMaxAgeS * 1000, timeoutDuration: 5_000 });
  const verify = async (token: string) => {
    if (!token) throw new Refusal(400, 'malformed_jwt', 'the body is empty: expected a signed JWT');
    let header: { alg?: unknown; kid?: unknown };
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new Refusal(400, 'malformed_jwt', 'the body is not a JWT (three base64url parts, the first a JSON header)');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, { algorithms: o.algorithms, clockTolerance: o.clockToleranceS }));
    } catch (err) {
      throw refusal(err, header, o);
    }
    // jose checks iat only with maxTokenAge (which would require it): a token issued in the future is refused here.
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + o.clockToleranceS) {
      throw new Refusal(401, 'claims_invalid', `the token's iat is in the future (more than ${o.clockToleranceS} s ahead of this clock)`);
    }
    return canvasEvent(payload);
  };
  return Object.assign(verify, { warm: () => jwks.reload() });
}

function refusal(err: unknown, header: { alg?: unknown; kid?: unknown }, o: VerifierOptions): Refusal {
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new Refusal(401, 'alg_not_allowed', `algorithm ${shown(header.alg)} is not accepted (accepted: ${o.algorithms.join(', ')})`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return new Refusal(401, 'unknown_kid', header.kid === undefined ? 'the JWT header has no kid, and no single key of the JWKS fits' : `no key of the JWKS has kid ${shown(header.kid)} (the JWKS is re-read for an unknown kid, at most once per cooldown)`);
  }
  if (err instanceof errors.JWKSMultipleMatchingKeys) return new Refusal(401, 'unknown_kid', `the JWT header's kid ${shown(header.kid)} matches several keys of the JWKS`);
  if (err instanceof errors.JWSSignatureVerificationFailed) return new Refusal(401, 'bad_signature', 'signature verification failed');
  if (err instanceof errors.JWTExpired) return new Refusal(401, 'expired', `the token expired (exp ${String(err.payload.exp)}, clock tolerance ${o.clockToleranceS} s)`);
  if (err instanceof errors.JWTClaimValidationFailed) return new Refusal(401, 'claims_invalid', `the token's ${err.claim} claim failed its check: ${err.reason}`);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new Refusal(400, 'malformed_jwt', `malformed JWT: ${(err as Error).message}`);
  // The JWKS could not be fetched or read: not the sender's fault, and it may retry.
  return new Refusal(503, 'jwks_unavailable', `cannot verify now: the JWKS is unavailable (${err instanceof errors.JOSEError ? err.code : ((err as Error).name ?? 'Error')})`);
}

/** The verified payload as a raw Canvas event: `metadata` (with its event_name) and `body`, registered claims left out. */
function canvasEvent(payload: JWTPayload): CanvasEvent {
  const { metadata, body } = payload as { metadata?: unknown; body?: unknown };
  const notEvent = (why: string) => new Refusal(400, 'not_canvas_event', `the payload is not a Canvas live event: ${why}`);
  if (!isPlainObject(metadata)) throw notEvent('metadata must be an object');
  const eventName = metadata.event_name;
  if (typeof eventName !== 'string' || !eventName) throw notEvent('metadata.event_name must be a non-empty string');
  if (!isPlainObject(body)) throw notEvent('body must be an object');
  const event: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) if (!REGISTERED_CLAIMS.has(k)) event[k] = v;
  return { event: event as CanvasEvent['event'], eventName };
}
