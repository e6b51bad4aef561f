// A signed HTTPS live event → the raw Canvas event it carries, as the exact JSON text Instructure signed,
// or a refusal with its HTTP status and a one-line reason. The JOSE work is jose's (jwtVerify, limited to
// asymmetric algorithms, over the keys of ./jwks.ts); the event is the payload's own text, decoded from
// the token, never re-serialised: numbers, key order and a `__proto__` member reach the queue as signed,
// and what the worker would refuse in it (a number a double cannot hold, too deep a nesting) is refused
// here, by the same rules (src/json.ts), naming the field.
import { base64url, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Logger } from 'pino';
import { isPlainObject, parseJson, tooDeepDescription, tooDeepPath, withoutMembers } from '../json.js';
import { MappingError } from '../errors.js';
import { sqsJsonBody } from '../sqs-text.js';
import { JwksUnavailable, RemoteJwks } from './jwks.js';

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
const REGISTERED_CLAIMS: ReadonlySet<string> = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);

export interface VerifierOptions {
  jwksUrl: string;
  algorithms: string[];
  clockToleranceS: number;
  cooldownS: number;
  cacheMaxAgeS: number;
  staleMaxAgeS: number;
  logger?: Logger;
}

export interface CanvasEvent {
  /** The raw Canvas event as an SQS message body: the payload's JSON text, registered claims left out. */
  body: string;
  eventName: string;
}

/** A header value fit for a one-line reason: short, printable, never the token. */
const shown = (value: unknown): string => JSON.stringify(String(value).replace(/[^\x20-\x7e]/g, '?').slice(0, 64));

export type Verify = ((token: string) => Promise<CanvasEvent>) & {
  /** Reads the JWKS now (at start: a wrong CANVAS_JWKS_URL shows in the log before Canvas posts). */
  warm(): Promise<void>;
  /** Closes the JWKS's connections. */
  close(): Promise<void>;
};

/** Strict UTF-8: a payload that is not is refused, not repaired (a repaired text is not what was signed). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function createVerifier(o: VerifierOptions): Verify {
  const jwks = new RemoteJwks({ url: o.jwksUrl, cacheMaxAgeS: o.cacheMaxAgeS, staleMaxAgeS: o.staleMaxAgeS, cooldownS: o.cooldownS, logger: o.logger });
  const verify = async (token: string) => {
    if (!token) throw new Refusal(400, 'malformed_jwt', 'the body is empty: expected a signed JWT');
    let header: Header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new Refusal(400, 'malformed_jwt', 'the body is not a JWT (three base64url parts, the first a JSON header)');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks.getKey, { algorithms: o.algorithms, clockTolerance: o.clockToleranceS }));
    } catch (err) {
      throw refusal(err, header, o, jwks);
    }
    // jose checks iat only with maxTokenAge (which would require it): a token issued in the future is refused here.
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + o.clockToleranceS) {
      throw new Refusal(401, 'claims_invalid', `the token's iat is in the future (more than ${o.clockToleranceS} s ahead of this clock)`);
    }
    // The signature covers the payload's base64url text (jwtVerify refuses an unencoded payload): its bytes are what was signed.
    return canvasEvent(base64url.decode(token.split('.')[1]!));
  };
  return Object.assign(verify, { warm: () => jwks.reload(), close: () => jwks.close() });
}

type Header = { alg?: unknown; kid?: unknown; crit?: unknown };

function refusal(err: unknown, header: Header, o: VerifierOptions, jwks: RemoteJwks): Error {
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new Refusal(401, 'alg_not_allowed', `algorithm ${shown(header.alg)} is not accepted (CANVAS_JWT_ALGORITHMS: ${o.algorithms.join(', ')})`);
  }
  // jose refuses a `crit` header naming an extension it does not implement (RFC 7515 §4.1.11): not an algorithm matter.
  if (err instanceof errors.JOSENotSupported && header.crit !== undefined) {
    return new Refusal(400, 'malformed_jwt', `the JWT header's crit names an extension this receiver does not implement (${shown(header.crit)}): the token must be refused`);
  }
  if (err instanceof errors.JOSENotSupported) return new Refusal(401, 'alg_not_allowed', `algorithm ${shown(header.alg)} cannot be used with the JWKS's key ${shown(header.kid)}: ${err.message}`);
  if (err instanceof errors.JWKSNoMatchingKey) {
    if (header.kid === undefined) return new Refusal(401, 'unknown_kid', 'the JWT header has no kid, and no single key of the JWKS fits');
    // A key with that kid is held, but for another algorithm or key type: the token's alg does not fit it.
    const key = jwks.keyWithKid(header.kid);
    if (key) return new Refusal(401, 'alg_not_allowed', `the JWKS's key ${shown(header.kid)} is not for algorithm ${shown(header.alg)} (it is a ${shown(key.kty)} key${key.alg ? ` for ${shown(key.alg)}` : ''}${key.use && key.use !== 'sig' ? `, use ${shown(key.use)}` : ''})`);
    return new Refusal(401, 'unknown_kid', `no key of the JWKS has kid ${shown(header.kid)} (the JWKS is re-read for an unknown kid, at most once per JWKS_COOLDOWN_S)`);
  }
  if (err instanceof errors.JWKSMultipleMatchingKeys) return new Refusal(401, 'unknown_kid', `the JWT header's kid ${shown(header.kid)} matches several keys of the JWKS`);
  if (err instanceof errors.JWSSignatureVerificationFailed) return new Refusal(401, 'bad_signature', 'signature verification failed');
  if (err instanceof errors.JWTExpired) return new Refusal(401, 'expired', `the token expired (exp ${String(err.payload.exp)}, clock tolerance ${o.clockToleranceS} s)`);
  if (err instanceof errors.JWTClaimValidationFailed) return new Refusal(401, 'claims_invalid', `the token's ${err.claim} claim failed its check: ${err.reason}`);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new Refusal(400, 'malformed_jwt', `malformed JWT: ${(err as Error).message}`);
  // The JWKS could not be read, and no usable keys are held: not the sender's fault, and it may retry.
  if (err instanceof JwksUnavailable) return new Refusal(503, 'jwks_unavailable', `cannot verify now: the JWKS is unavailable (${err.message})`);
  // Anything else is ours (the server answers 503 internal_error).
  return err as Error;
}

/**
 * The verified payload's bytes as a raw Canvas event: refused (naming the field) as the worker would
 * refuse it, else its JSON text with the registered claims left out, everything else as signed.
 */
function canvasEvent(bytes: Uint8Array): CanvasEvent {
  const notEvent = (why: string) => new Refusal(400, 'not_canvas_event', `the payload is not a Canvas live event: ${why}`);
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(bytes);
    value = parseJson(text);
  } catch (err) {
    if (err instanceof MappingError) throw notEvent(`the worker would refuse it: ${err.message}`);
    throw notEvent('the payload is not UTF-8');
  }
  if (!isPlainObject(value)) throw notEvent('the payload must be a JSON object');
  if (tooDeepPath(value)) throw notEvent(`the worker would refuse it: ${tooDeepDescription(value)}`);
  const { metadata, body } = value;
  if (!isPlainObject(metadata)) throw notEvent('metadata must be an object');
  const eventName = metadata.event_name;
  if (typeof eventName !== 'string' || !eventName) throw notEvent('metadata.event_name must be a non-empty string');
  if (!isPlainObject(body)) throw notEvent('body must be an object');
  return { body: sqsJsonBody(withoutMembers(text, REGISTERED_CLAIMS)), eventName };
}
