// The per-event path: raw input → checked raw event → privacy policy → known body fields only → mapper →
// Caliper envelope → checked envelope.
// Every failure is a MappingError with a stable code and a message that names the event and field.
import crypto from 'node:crypto';
import { formatIssues, validateEnvelope } from './caliper/validate.js';
import { CALIPER_CONTEXT, type CaliperEvent, type Envelope } from './caliper/model.js';
import { FieldError, MappingError, SkippedEvent } from './errors.js';
import { isPlainObject, MAX_DEPTH, parseJson, tooDeepDescription } from './json.js';
import { RawEnvelope, type RawEvent } from './raw.js';
import { caliperEvent, edApp, EXT } from '../mappers/builders.js';
import { finish } from '../mappers/values.js';
import { fastCheck } from './check.js';
import { finishValid } from './caliper/finish.js';
import { INSTRUCTURE_EVENT_NAMES, MAPPERS } from '../mappers/index.js';
import { KNOWN_BODY_FIELDS, knownBody } from './known-fields.js';
import { dataVersionOf, toFormat, type Format, type FormatOptions } from './formats/index.js';
import type { Privacy } from './privacy/policy.js';
import type { CaliperTypeFilter } from './filter.js';
import { changesIris, iriContext, iriOf, rewriteIris, type IriOptions } from './iri.js';

export type EventIdMode = 'deterministic' | 'random';

export interface MapOptions {
  /** deterministic (default): the same raw event always gets the same id; random: a fresh v4 UUID. */
  eventId?: EventIdMode;
  /** A fixed envelope sendTime (already `YYYY-MM-DDTHH:mm:ss.SSSZ`); default: now. */
  sendTime?: string;
  /** The output format (src/formats): instructure (default, Instructure's Caliper 1.1), caliper-1.1 or caliper-1.2 (strict). */
  format?: Format;
  /** caliper-1.2's edApp id and session (CALIPER_EDAPP_ID, CALIPER_SESSION). */
  formatOptions?: FormatOptions;
  /** The privacy policy (src/privacy): pseudonymise or drop personal data in the raw event before it is mapped; absent is keep. */
  privacy?: Privacy;
  /** CALIPER_EVENT_TYPES: only events of these Caliper types (and actions) are published; others throw a SkippedEvent. */
  caliperTypes?: CaliperTypeFilter;
  /** The IRIs published (src/iri.ts): CALIPER_IRI, CALIPER_IRI_HOST, PERSON_ID_MAP, PERSON_ID_UNMAPPED. */
  iri?: IriOptions;
}

/**
 * An encoding of a JSON value that ignores key order: an object becomes [0, key, value, …] with its
 * keys sorted, an array [1, item, …]. Serialised with JSON.stringify it is the input of the event id
 * hash. (Arrays rather than re-built objects: JSON.stringify writes them several times faster.)
 */
export function orderFree(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) throw new TooDeep();
  if (Array.isArray(value)) {
    const out: unknown[] = [1];
    for (let i = 0; i < value.length; i++) out.push(orderFree(value[i], depth + 1));
    return out;
  }
  // Keys in sorted order: read in their own order when already sorted, else sorted (natively, as strings).
  // A key whose value is undefined is absent, as in JSON (the privacy pass leaves removed fields so).
  const out: unknown[] = [0];
  const object = value as Record<string, unknown>;
  if (keysSorted(object)) {
    for (const k in object) if (object[k] !== undefined) out.push(k, orderFree(object[k], depth + 1));
  } else {
    const keys = Object.keys(object).sort();
    for (let i = 0; i < keys.length; i++) if (object[keys[i]!] !== undefined) out.push(keys[i], orderFree(object[keys[i]!], depth + 1));
  }
  return out;
}

/** Whether an object's keys are in sorted order already. */
function keysSorted(object: object): boolean {
  let previous = '';
  for (const k in object) {
    if (k < previous) return false;
    previous = k;
  }
  return true;
}

/** An input nested deeper than MAX_DEPTH: refused before any other walk (mapping, pruning) can overflow the stack. */
class TooDeep extends Error {}

/** Throws TooDeep when a value is nested deeper than MAX_DEPTH (the id's walk does this check in deterministic mode). */
function assertDepth(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object') return;
  if (depth >= MAX_DEPTH) throw new TooDeep();
  for (const v of Array.isArray(value) ? value : Object.values(value)) assertDepth(v, depth + 1);
}

/**
 * `urn:uuid:` + a v4-layout UUID (version nibble 4, RFC 4122 variant) whose other 122 bits are the
 * SHA-256 of the raw event in its key-order-free encoding: redeliveries and replays of one event
 * share an id, however they were re-serialised.
 */
export function deterministicEventId(raw: unknown): string {
  return uuidOfHex(sha256Hex(JSON.stringify(orderFree(raw))));
}

/** `urn:uuid:` + the v4 layout of a hex digest: version nibble 4 (hex digit 12), RFC 4122 variant 10xx (hex digit 16). */
function uuidOfHex(hex: string): string {
  const variant = VARIANT[hex.charCodeAt(16)]!;
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The event id under a privacy policy: the v4 layout of the keyed hash of the event as the policy made it (Privacy.eventId). */
export function privateEventId(privacy: Privacy, raw: RawEvent): string {
  return uuidOfHex(privacy.eventId(JSON.stringify(orderFree(raw)), sha256Hex));
}

/** The RFC 4122 variant digit (10xx) for each hex digit's character code: its low two bits kept. */
const VARIANT: string[] = [];
for (const d of '0123456789abcdef') VARIANT[d.charCodeAt(0)] = ((parseInt(d, 16) & 0x3) | 0x8).toString(16);

// crypto.hash (Node ≥ 20.12) skips the Hash object, and a hex digest skips a Buffer (about half the
// cost of the hash on an event); older Node 20 releases fall back to createHash.
const sha256Hex: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) => (crypto as unknown as { hash: (alg: string, data: string, enc: 'hex') => string }).hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

export const randomEventId = (): string => `urn:uuid:${crypto.randomUUID()}`;

/**
 * Writes the policy's marker (`privacy`, `privacy_key_id`) last into the event's own
 * `com.instructure.canvas` extensions, in every format, so a consumer can tell which policy and key
 * made it. In place: the event and its extensions are the builders' (or the format's) own new
 * objects, never the input's.
 */
function mark(event: CaliperEvent, privacy: Privacy): CaliperEvent {
  const target = event as unknown as Record<string, unknown>;
  if (!isPlainObject(target.extensions)) target.extensions = {};
  const extensions = target.extensions as Record<string, unknown>;
  if (!isPlainObject(extensions[EXT])) extensions[EXT] = {};
  const canvas = extensions[EXT] as Record<string, unknown>;
  canvas.privacy = privacy.policy;
  canvas.privacy_key_id = privacy.keyId;
  return event;
}

/** The event_name of an input, if it has one, for error reports. */
export function eventNameOf(input: unknown): string | undefined {
  const name = (input as { metadata?: { event_name?: unknown } } | null)?.metadata?.event_name;
  return typeof name === 'string' ? name : undefined;
}

const isRawEnvelope = fastCheck(RawEnvelope);

/**
 * Maps one parsed raw Canvas event to a Caliper envelope validated in the requested format, or throws
 * a MappingError. The input is left as it is, unless the caller gives it away (`owned`: a value it
 * has just parsed and will not read again): then a privacy policy writes into it rather than copying
 * it (Privacy.event).
 */
export function mapEvent(input: unknown, options: MapOptions = {}, owned = false): Envelope {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new MappingError('NOT_AN_OBJECT', `expected a Canvas event object {metadata, body}, got ${Array.isArray(input) ? 'an array' : input === null ? 'null' : typeof input}`);
  }
  const eventName = eventNameOf(input);
  const refuse = (code: MappingError['code'], message: string) => new MappingError(code, `event ${eventName ?? '(no event_name)'}: ${message}`, eventName);
  // The fast checks compiled from the zod schemas say yes for valid input, which is then used as it
  // is (no copy); only a no asks zod, for its verdict and the wording of the error.
  if (!isRawEnvelope(input)) {
    const checked = RawEnvelope.safeParse(input);
    if (!checked.success) throw refuse('INVALID_RAW_EVENT', formatIssues(checked.error.issues));
  }
  const original = input as RawEvent;
  const mapper = MAPPERS.get(original.metadata.event_name);
  if (!mapper) throw refuse('UNKNOWN_EVENT', 'unsupported event_name (run `canvas-caliper events` for the supported ones)');
  if (!fastCheck(mapper.body)(original.body)) {
    const body = mapper.body.safeParse(original.body);
    if (!body.success) throw refuse('INVALID_RAW_EVENT', formatIssues(body.error.issues, 'body'));
  }
  // Instructure's 32 types may carry its documented departures; our own types must be spec-valid; the
  // strict formats allow no departure.
  const departures = INSTRUCTURE_EVENT_NAMES.has(mapper.eventName);
  const format = options.format ?? 'instructure';
  const privacy = options.privacy;

  let envelope: Envelope;
  try {
    // The privacy policy applies to the raw event, checked above as Canvas sent it: the mapper, the
    // format and everything after see only what the policy left (src/privacy/policy.ts).
    const policed = privacy ? privacy.event(original, owned) : original;
    // Nested too deep: refused. What is read is the event as the policy left it (the deterministic id
    // walks it; a random one is checked here): a field a policy removes is never read, however deep.
    if (options.eventId === 'random') assertDepth(policed);
    const eventId = options.eventId === 'random' ? randomEventId() : privacy ? privateEventId(privacy, policed) : deterministicEventId(input);
    // Only the body fields Canvas documents for the type or its mapper reads go on (src/known-fields.ts):
    // an unknown one, whatever its name, reaches no mapper, format or extension.
    const raw = knownBody(policed, KNOWN_BODY_FIELDS.get(mapper.eventName)!);
    const event = caliperEvent(raw, mapper, mapper.map(raw), eventId, departures);
    const sensor = edApp(raw.metadata).id;
    const sendTime = options.sendTime ?? new Date().toISOString();
    const iri = changesIris(options.iri) ? options.iri : undefined;
    if (format === 'instructure' && !iri) {
      // The fast path: finished and validated in one walk; a no takes the slow path below, which words the error.
      // (An event CALIPER_EVENT_TYPES leaves out is skipped first: its type and action are final here.)
      published(event, options, mapper.eventName);
      const done = finishValid(sensor, sendTime, privacy ? mark(event, privacy) : event, departures);
      if (done) return done;
    }
    // A strict format transforms the pruned Instructure event (src/formats); instructure takes it as it is.
    const formatted = format === 'instructure' ? event : toFormat(format, finish(event), raw, options.formatOptions);
    const data = privacy ? mark(formatted, privacy) : formatted;
    published(data, options, mapper.eventName);
    let sensorIri = sensor;
    if (iri) {
      // The IRIs the platform wants, once, after the format (src/iri.ts); then who the map does not know.
      const ctx = iriContext(raw.metadata, iri);
      sensorIri = iriOf(sensor, ctx);
      const unmapped = rewriteIris(data, ctx);
      if (unmapped.length && iri.unmapped !== 'keep') {
        const message = `event ${eventName}: PERSON_ID_MAP has no person_id for the user at ${unmapped.map((u) => u.at).join(', ')} (PERSON_ID_UNMAPPED=${iri.unmapped ?? 'dlq'})`;
        if (iri.unmapped === 'skip') throw new SkippedEvent('UNMAPPED_PERSON', message, 'unmapped_person', eventName);
        throw new MappingError('UNMAPPED_PERSON', message, eventName);
      }
    }
    envelope = finish({
      sensor: sensorIri,
      sendTime,
      dataVersion: format === 'instructure' ? CALIPER_CONTEXT : dataVersionOf(format),
      data: [data],
    });
  } catch (err) {
    if (err instanceof SkippedEvent || (err instanceof MappingError && err.code === 'UNMAPPED_PERSON')) throw err;
    if (err instanceof FieldError) throw refuse('INVALID_RAW_EVENT', err.message);
    if (err instanceof TooDeep) throw refuse('INVALID_RAW_EVENT', tooDeepDescription(input));
    throw refuse('MAPPER_ERROR', `mapper failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const valid = format !== 'instructure' ? validateEnvelope(envelope, { format }) : validateEnvelope(envelope, { departures });
  if (!valid.ok) throw refuse('INVALID_CALIPER', `the Caliper output is invalid: ${valid.error}`);
  return envelope;
}

/** True when CALIPER_EVENT_TYPES lets the event through; else throws the SkippedEvent that says which type it is. */
function published(event: CaliperEvent, options: MapOptions, eventName: string): true {
  if (!options.caliperTypes || options.caliperTypes(event.type, event.action)) return true;
  const label = `${event.type}.${event.action}`;
  throw new SkippedEvent('CALIPER_TYPE_EXCLUDED', `event ${eventName}: ${label} is not in CALIPER_EVENT_TYPES`, label, eventName);
}

/** Parses and maps one JSON text (a raw Canvas event). */
export function mapJson(text: string, options: MapOptions = {}): Envelope {
  return mapEvent(parseJson(text), options, true);
}

export interface Decoded {
  envelope: Envelope;
  /** The Canvas event_name, or for a passed-through Caliper envelope its event type and action. */
  eventName: string;
}


/** The event an SNS notification (subscription without raw delivery) wraps; any other value as it is. */
export function unwrapSns(value: unknown): unknown {
  return isPlainObject(value) && value.Type === 'Notification' && typeof value.Message === 'string'
    ? parseJson(value.Message, ' in the SNS notification Message')
    : value;
}

/**
 * What a queue message or an input item may hold: a raw Canvas event; the same wrapped in an SNS
 * notification (subscription without raw delivery); or an envelope already in Caliper (Canvas's
 * "Caliper IMS" format), which is validated and passed through. Throws a MappingError. `owned`: as
 * mapEvent's.
 */
export function mapInput(input: unknown, options: MapOptions = {}, owned = false): Decoded {
  const value = unwrapSns(input);
  if (isPlainObject(value) && 'dataVersion' in value && 'data' in value && !('metadata' in value)) {
    // Validated in the format the caller publishes (a strict format refuses Instructure's departures).
    const valid = validateEnvelope(value, options.format ? { format: options.format } : {});
    const first = Array.isArray(value.data) && isPlainObject(value.data[0]) ? value.data[0] : {};
    const eventName = `${String(first.type)}:${String(first.action)}`;
    // Which of a Caliper envelope's fields are personal is known only for what we map ourselves.
    if (options.privacy) throw new MappingError('INVALID_CALIPER', `Caliper envelope ${eventName}: PRIVACY=${options.privacy.policy} takes raw Canvas events only (an envelope already in Caliper cannot be checked for personal data; subscribe in the Canvas format)`, eventName);
    // Its ids are Canvas's, but without the raw event's host and shard they cannot be told apart or routed.
    if (changesIris(options.iri)) throw new MappingError('INVALID_CALIPER', `Caliper envelope ${eventName}: PERSON_ID_MAP and CALIPER_IRI=https take raw Canvas events only (subscribe in the Canvas format)`, eventName);
    if (!valid.ok) throw new MappingError('INVALID_CALIPER', `Caliper envelope ${eventName}: ${valid.error}`, eventName);
    if (isPlainObject(first) && typeof first.type === 'string' && typeof first.action === 'string') published(first as unknown as CaliperEvent, options, eventName);
    return { envelope: value as unknown as Envelope, eventName };
  }
  return { envelope: mapEvent(value, options, owned), eventName: eventNameOf(value) ?? '' };
}
