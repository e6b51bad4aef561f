// Caliper 1.1 output validation: the envelope and event shapes with zod, then the rules zod cannot
// express as a shape — the event type × action × entity type table, entity properties per type,
// role terms, and no nulls anywhere.
import { z } from 'zod';
import { fastCheck } from '../check.js';
import type { Format } from '../formats/index.js';
import { lengthIssues } from './strict11.js';
import { validateEnvelope12 } from './validate12.js';
import {
  ACTIONS,
  allowedProperties,
  CALIPER_CONTEXT,
  ENTITY_TYPES,
  EVENT_TYPES,
  INSTRUCTURE_DEPARTURES,
  isA,
  PROPERTY_KINDS,
  requiredProperties,
  ROLE_TERMS,
  SPEC_RULES,
  type PropertyKind,
  type Envelope,
  type EventType,
  type ValidationResult,
} from './model.js';
import { isPlainObject } from '../json.js';

export const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** An absolute IRI: a scheme, a colon, and no whitespace (S11 §4.2: "IRI values MUST be absolute"). */
export const IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;
export const UUID_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const DateTime = z.string().regex(DATE_TIME, 'must be a UTC date-time YYYY-MM-DDTHH:mm:ss.SSSZ');
const Iri = z.string().regex(IRI, 'must be an absolute IRI');
const EntityRef = z.union([Iri, z.looseObject({ id: Iri, type: z.string() })], {
  error: 'must be an entity object with id and type, or an IRI string',
});

const EventShape = z.strictObject({
  '@context': z.literal(CALIPER_CONTEXT),
  id: z.string().regex(UUID_URN, 'must be urn:uuid: followed by a lower-case UUID'),
  type: z.enum(EVENT_TYPES),
  actor: EntityRef,
  action: z.enum(ACTIONS),
  object: EntityRef,
  eventTime: DateTime,
  target: EntityRef.optional(),
  generated: EntityRef.optional(),
  edApp: EntityRef.optional(),
  referrer: EntityRef.optional(),
  group: EntityRef.optional(),
  membership: EntityRef.optional(),
  session: EntityRef.optional(),
  federatedSession: EntityRef.optional(),
  extensions: z.record(z.string(), z.unknown()).optional(),
});

export const EVENT_ENTITY_PROPS: Record<string, string | undefined> = {
  actor: 'Agent',
  object: 'Entity',
  target: 'Entity',
  generated: 'Entity',
  edApp: 'SoftwareApplication',
  referrer: 'Entity',
  group: 'Organization',
  membership: 'Membership',
  session: 'Session',
  federatedSession: 'LtiSession',
};

/**
 * A problem found by the rule checks; `at` is the path as written in messages, e.g.
 * `data[0].object.type`. On the fast path (only "is it valid?") `at` is '' and no path is built.
 */
export type Issue = { at: string; message: string };
const sub = (at: string, key: string) => (at ? `${at}.${key}` : '');
const item = (at: string, i: number) => (at ? `${at}[${i}]` : '');

function typeOf(ref: unknown): string | undefined {
  return ref !== null && typeof ref === 'object' ? String((ref as { type: unknown }).type) : undefined;
}

/** What a check may accept: Instructure's documented departures (its 32 event types), or the spec alone. */
export interface Mode {
  departures: boolean;
}

/** The event type × action × actor/object/generated/target/referrer table, with Instructure's departures when allowed. */
export function checkEventRules(event: Pick<z.infer<typeof EventShape>, 'type' | 'action'>, at: string, issues: Issue[], mode: Mode): void {
  const type: EventType = event.type;
  const { actions, roles } = eventRule(type, event.action, mode.departures);
  if (!actions.includes(event.action)) {
    issues.push({ at: sub(at, 'action'), message: `${type} does not allow action "${event.action}" (allowed: ${actions.join(', ')})` });
  }
  for (let r = 0; r < roles.length; r++) {
    const [prop, allowed] = roles[r]!;
    const t = typeOf((event as Record<string, unknown>)[prop]);
    if (t === undefined || allowed === undefined) continue;
    if (!isAny(t, allowed)) {
      issues.push({
        at: sub(at, prop),
        message: allowed.length ? `${type} does not allow ${prop} of type "${t}" (allowed: ${allowed.join(', ')})` : `${type} has no ${prop}`,
      });
    }
  }
}

/** Is `type` one of the allowed types or a subtype of one? */
function isAny(type: string, allowed: readonly string[]): boolean {
  for (let i = 0; i < allowed.length; i++) if (isA(type, allowed[i]!)) return true;
  return false;
}

/**
 * An event type's allowed actions and entity types per role, for one action (the type's narrower rules
 * for it, when it has any), with or without Instructure's departures (built once per type and action).
 */
function eventRule(type: EventType, action: string, departures: boolean) {
  const rules = departures ? EVENT_RULES.instructure : EVENT_RULES.spec;
  const byType = rules.get(type) ?? new Map<string, Rule>();
  let rule = byType.get(action);
  if (!rule) {
    const spec = SPEC_RULES[type];
    const only = spec.byAction?.[action] ?? {};
    const d = departures ? INSTRUCTURE_DEPARTURES : undefined;
    rule = {
      actions: [...spec.actions, ...(d?.eventActions[type] ?? [])] as readonly string[],
      roles: [
        ['actor', [...(only.actor ?? spec.actor), ...(d?.eventActors[type] ?? [])]],
        ['object', [...(only.object ?? spec.object), ...(d?.eventObjects[type] ?? [])]],
        ['generated', only.generated ?? spec.generated],
        ['target', only.target ?? spec.target],
        ['referrer', spec.referrer],
      ] as [string, readonly string[] | undefined][],
    };
    byType.set(action, rule);
    rules.set(type, byType);
  }
  return rule;
}
type Rule = { actions: readonly string[]; roles: [string, readonly string[] | undefined][] };
const EVENT_RULES = { instructure: new Map<EventType, Map<string, Rule>>(), spec: new Map<EventType, Map<string, Rule>>() };

const DURATION = /^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$/;

/** Checks one property's value against the kind Caliper gives it; returns the problem, or undefined. */
export function checkValue(kind: PropertyKind, v: unknown, at: string, issues: Issue[], mode: Mode): string | undefined {
  switch (kind) {
    case 'string':
      return typeof v === 'string' ? undefined : 'must be a string';
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'must be an array of strings';
    case 'integer':
      return Number.isSafeInteger(v) ? undefined : 'must be an integer';
    case 'nonNegativeInteger':
      return Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'must be a non-negative integer';
    case 'decimal':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : 'must be a number';
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'dateTime':
      return typeof v === 'string' && DATE_TIME.test(v) ? undefined : 'must be a UTC date-time YYYY-MM-DDTHH:mm:ss.SSSZ';
    case 'duration':
      return typeof v === 'string' && DURATION.test(v) ? undefined : 'must be an ISO 8601 duration (e.g. PT50M12S)';
    case 'iri':
      return typeof v === 'string' && IRI.test(v) ? undefined : 'must be an absolute IRI';
    case 'type':
      return typeof v === 'string' ? undefined : 'must be a type name';
    case 'entity':
      checkEntityValue(v, at, issues, mode);
      return undefined;
    case 'entities':
      if (!Array.isArray(v)) return 'must be an array of entities or IRIs';
      v.forEach((entity, i) => checkEntityValue(entity, item(at, i), issues, mode));
      return undefined;
    case 'roles':
      if (!Array.isArray(v) || v.length === 0) return 'must be a non-empty array of role terms';
      v.forEach((r, i) => ROLE_TERMS.has(r as string) || issues.push({ at: item(at, i), message: `"${String(r)}" is not a Caliper role term` }));
      return undefined;
    case 'status':
      return v === 'Active' || v === 'Inactive' ? undefined : 'must be Active or Inactive';
    case 'selector':
      return isPlainObject(v) && v.type === 'TextPositionSelector' && Number.isSafeInteger(v.start) && Number.isSafeInteger(v.end)
        ? undefined
        : 'must be a TextPositionSelector with integer start and end';
    case 'object':
    case 'extensions':
      if (!isPlainObject(v)) return 'must be an object';
      checkJson(v, at, issues);
      return undefined;
  }
}

/** An entity object: known type of the expected kind, only the properties its type defines, each of its kind, no nulls. */
function checkEntity(value: Record<string, unknown>, expected: string, at: string, issues: Issue[], mode: Mode): void {
  const type = value.type;
  if (typeof type !== 'string' || !ENTITY_TYPES.includes(type)) {
    issues.push({ at: sub(at, 'type'), message: `${JSON.stringify(type)} is not a Caliper 1.1 entity type` });
    return;
  }
  if (!isA(type, expected)) issues.push({ at: sub(at, 'type'), message: `must be a ${expected}, not "${type}"` });
  if (typeof value.id !== 'string') issues.push({ at: sub(at, 'id'), message: 'is required (an absolute IRI)' });
  const allowed = allowedProperties(type, mode.departures);
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === null || v === undefined) {
      issues.push({ at: sub(at, key), message: 'is null (null and empty values must be left out)' });
    } else if (!allowed.has(key)) {
      issues.push({ at: sub(at, key), message: `"${key}" is not a property of ${type}` });
    } else {
      const problem = checkValue(PROPERTY_KINDS[key] ?? 'object', v, sub(at, key), issues, mode);
      if (problem) issues.push({ at: sub(at, key), message: problem });
    }
  }
  const required = requiredProperties(type);
  for (let i = 0; i < required.length; i++) {
    const key = required[i]!;
    if (value[key] === undefined) issues.push({ at: sub(at, key), message: `is required on ${type} (IMS's reference implementation refuses a ${type} without it)` });
  }
}

function checkEntityValue(item: unknown, at: string, issues: Issue[], mode: Mode): void {
  if (typeof item === 'string') {
    if (!IRI.test(item)) issues.push({ at, message: 'must be an absolute IRI' });
  } else if (isPlainObject(item)) {
    checkEntity(item, 'Entity', at, issues, mode);
  } else issues.push({ at, message: 'must be an entity object or an IRI string' });
}

/** Free-form JSON (extensions): no nulls, no non-finite numbers. */
function checkJson(value: unknown, at: string, issues: Issue[]): void {
  if (value === null || value === undefined) issues.push({ at, message: 'is null (null and empty values must be left out)' });
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) issues.push({ at, message: 'must be a finite number' });
  } else if (Array.isArray(value)) value.forEach((v, i) => checkJson(v, item(at, i), issues));
  else if (typeof value === 'object') for (const k of Object.keys(value)) checkJson((value as Record<string, unknown>)[k], sub(at, k), issues);
}

/** The envelope's shape (zod); the rules zod cannot express are checked by `ruleIssues`. */
const EnvelopeShape = z.strictObject({
  sensor: Iri,
  sendTime: DateTime,
  dataVersion: z.literal(CALIPER_CONTEXT),
  data: z.array(EventShape).length(1, 'must hold exactly one event (Instructure sends one event per envelope)'),
});

/** The rule checks of an envelope of the right shape; `paths: false` (the fast path) builds no path. */
function ruleIssues(envelope: z.infer<typeof EnvelopeShape>, mode: Mode, paths: boolean): Issue[] {
  const issues: Issue[] = [];
  envelope.data.forEach((event, i) => {
    const at = paths ? `data[${i}]` : '';
    checkEventRules(event, at, issues, mode);
    const record = event as Record<string, unknown>;
    for (const prop in EVENT_ENTITY_PROPS) {
      const v = record[prop];
      if (isPlainObject(v)) checkEntity(v, EVENT_ENTITY_PROPS[prop]!, sub(at, prop), issues, mode);
    }
    if (event.extensions) checkJson(event.extensions, sub(at, 'extensions'), issues);
  });
  return issues;
}

/**
 * zod's verdict on the shape (and its wording), then the rules — on the input itself, not on zod's
 * parsed copy: a copy loses an own `__proto__` key (JSON.parse makes one), which the rules must refuse.
 */
function envelopeSchema(mode: Mode) {
  return z.unknown().superRefine((input, ctx) => {
    const shape = EnvelopeShape.safeParse(input);
    if (!shape.success) {
      for (const issue of shape.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      return;
    }
    for (const issue of ruleIssues(input as z.infer<typeof EnvelopeShape>, mode, true)) ctx.addIssue({ code: 'custom', path: [], message: `${issue.at}: ${issue.message}` });
  });
}

/** The fast check of the envelope's shape, compiled from the same zod schema (src/check.ts). */
const isEnvelopeShape = fastCheck(EnvelopeShape);

/** Caliper 1.1 as Instructure emits it: the spec plus exactly the departures in docs/caliper-departures.md. */
export const EnvelopeSchema = envelopeSchema({ departures: true });
/** Caliper 1.1 with no departure: what our own event types must be. */
export const StrictEnvelopeSchema = envelopeSchema({ departures: false });

/** `data[0].object.type: must be …` — one line per problem, path first. */
export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], prefix = ''): string {
  return issues
    .map((i) => {
      const path = i.path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), prefix);
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}

export type { ValidationResult };
const VALID: ValidationResult = { ok: true };

/**
 * Checks a Caliper 1.1 envelope as we emit it (and as Canvas does when set to "Caliper IMS"). With
 * `departures: false`, Instructure's departures are refused too (our own event types).
 */
export function validateEnvelope(envelope: unknown, options: ValidateOptions = {}): ValidationResult {
  // The strict output formats (src/formats): caliper-1.2 has its own vocabulary (validate12.ts);
  // caliper-1.1 is the spec with no departure plus the string lengths of IMS's 1.1 schemas.
  if (options.format === 'caliper-1.2') return validateEnvelope12(envelope);
  if (options.format === 'caliper-1.1') return validateStrict11(envelope);
  const mode = { departures: options.departures !== false };
  // The fast path: the compiled shape check and the rules without paths; zod only to word a failure.
  if (isEnvelopeShape(envelope) && ruleIssues(envelope as z.infer<typeof EnvelopeShape>, mode, false).length === 0) return VALID;
  const result = (mode.departures ? EnvelopeSchema : StrictEnvelopeSchema).safeParse(envelope);
  return result.success ? { ok: true } : { ok: false, error: formatIssues(result.error.issues) };
}

/**
 * `departures` (format instructure): whether Instructure's documented departures are allowed (its 32
 * types) or not (ours). `format`: a strict output format, which allows no departure at all.
 */
export interface ValidateOptions {
  departures?: boolean;
  format?: Format;
}

function validateStrict11(envelope: unknown): ValidationResult {
  const spec = validateEnvelope(envelope, { departures: false });
  if (!spec.ok) return spec;
  const long = lengthIssues(envelope);
  return long.length ? { ok: false, error: long.join('; ') } : spec;
}

export type { Envelope };
