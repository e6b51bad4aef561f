// Caliper 1.1 output validation: the envelope and event shapes with zod, then the rules zod cannot
// express as a shape — the event type × action × entity type table, entity properties per type,
// role terms, and no nulls anywhere.
import { z } from 'zod';
import {
  ACTIONS,
  allowedProperties,
  CALIPER_CONTEXT,
  DATE_TIME_VALUED,
  ENTITY_TYPES,
  ENTITY_VALUED,
  EVENT_TYPES,
  INSTRUCTURE_DEPARTURES,
  isA,
  ROLE_TERMS,
  SPEC_RULES,
  type Envelope,
  type EventType,
} from './model.js';

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** An absolute IRI: a scheme, a colon, and no whitespace (S11 §4.2: "IRI values MUST be absolute"). */
const IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;
const UUID_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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

const EVENT_ENTITY_PROPS: Record<string, string | undefined> = {
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

/** A problem found by the rule checks; `at` is the path as written in messages, e.g. `data[0].object.type`. */
type Issue = { at: string; message: string };

function typeOf(ref: unknown): string | undefined {
  return ref !== null && typeof ref === 'object' ? String((ref as { type: unknown }).type) : undefined;
}

/** The event type × action × actor/object/generated/target/referrer table, with Instructure's departures. */
function checkEventRules(event: z.infer<typeof EventShape>, at: string, issues: Issue[]): void {
  const rule = SPEC_RULES[event.type];
  const type: EventType = event.type;
  const actions: readonly string[] = [...rule.actions, ...(INSTRUCTURE_DEPARTURES.eventActions[type] ?? [])];
  if (!actions.includes(event.action)) {
    issues.push({ at: `${at}.action`, message: `${type} does not allow action "${event.action}" (allowed: ${actions.join(', ')})` });
  }
  const roles: [string, readonly string[] | undefined][] = [
    ['actor', [...rule.actor, ...(INSTRUCTURE_DEPARTURES.eventActors[type] ?? [])]],
    ['object', [...rule.object, ...(INSTRUCTURE_DEPARTURES.eventObjects[type] ?? [])]],
    ['generated', rule.generated],
    ['target', rule.target],
    ['referrer', rule.referrer],
  ];
  for (const [prop, allowed] of roles) {
    const t = typeOf((event as Record<string, unknown>)[prop]);
    if (t === undefined || allowed === undefined) continue;
    if (!allowed.some((a) => isA(t, a))) {
      issues.push({
        at: `${at}.${prop}`,
        message: allowed.length ? `${type} does not allow ${prop} of type "${t}" (allowed: ${allowed.join(', ')})` : `${type} has no ${prop}`,
      });
    }
  }
}

/** An entity object: known type of the expected kind, only the properties its type defines, well-formed values, no nulls. */
function checkEntity(value: Record<string, unknown>, expected: string, at: string, issues: Issue[]): void {
  const type = String(value.type);
  if (!ENTITY_TYPES.includes(type)) {
    issues.push({ at: `${at}.type`, message: `"${type}" is not a Caliper 1.1 entity type` });
    return;
  }
  if (!isA(type, expected)) issues.push({ at: `${at}.type`, message: `must be a ${expected}, not "${type}"` });
  if (typeof value.id !== 'string' || !IRI.test(value.id)) issues.push({ at: `${at}.id`, message: 'must be an absolute IRI' });
  const allowed = allowedProperties(type);
  for (const key in value) {
    const v = value[key];
    if (v === null) {
      issues.push({ at: `${at}.${key}`, message: 'is null (null and empty values must be left out)' });
    } else if (!allowed.has(key)) {
      issues.push({ at: `${at}.${key}`, message: `"${key}" is not a property of ${type}` });
    } else if (ENTITY_VALUED.has(key)) {
      if (Array.isArray(v)) v.forEach((item, i) => checkEntityValue(item, `${at}.${key}[${i}]`, issues));
      else checkEntityValue(v, `${at}.${key}`, issues);
    } else if (DATE_TIME_VALUED.has(key)) {
      if (typeof v !== 'string' || !DATE_TIME.test(v)) issues.push({ at: `${at}.${key}`, message: 'must be a UTC date-time YYYY-MM-DDTHH:mm:ss.SSSZ' });
    } else if (key === 'roles') {
      if (!Array.isArray(v) || v.length === 0) issues.push({ at: `${at}.roles`, message: 'must be a non-empty array of role terms' });
      else v.forEach((r, i) => ROLE_TERMS.has(r as string) || issues.push({ at: `${at}.roles[${i}]`, message: `"${String(r)}" is not a Caliper role term` }));
    } else if (key === 'status') {
      if (v !== 'Active' && v !== 'Inactive') issues.push({ at: `${at}.status`, message: 'must be Active or Inactive' });
    } else if (key === 'extensions') {
      if (typeof v !== 'object' || Array.isArray(v)) issues.push({ at: `${at}.extensions`, message: 'must be an object' });
      else checkNoNulls(v, `${at}.extensions`, issues);
    }
  }
}

function checkEntityValue(item: unknown, at: string, issues: Issue[]): void {
  if (typeof item === 'string') {
    if (!IRI.test(item)) issues.push({ at, message: 'must be an absolute IRI' });
  } else if (item !== null && typeof item === 'object') {
    checkEntity(item as Record<string, unknown>, 'Entity', at, issues);
  } else issues.push({ at, message: 'must be an entity object or an IRI string' });
}

function checkNoNulls(value: unknown, at: string, issues: Issue[]): void {
  if (value === null) issues.push({ at, message: 'is null (null and empty values must be left out)' });
  else if (Array.isArray(value)) value.forEach((v, i) => checkNoNulls(v, `${at}[${i}]`, issues));
  else if (typeof value === 'object') for (const k in value) checkNoNulls((value as Record<string, unknown>)[k], `${at}.${k}`, issues);
}

export const EnvelopeSchema = z
  .strictObject({
    sensor: Iri,
    sendTime: DateTime,
    dataVersion: z.literal(CALIPER_CONTEXT),
    data: z.array(EventShape).length(1, 'must hold exactly one event (Instructure sends one event per envelope)'),
  })
  .superRefine((envelope, ctx) => {
    const issues: Issue[] = [];
    envelope.data.forEach((event, i) => {
      const at = `data[${i}]`;
      checkEventRules(event, at, issues);
      const record = event as Record<string, unknown>;
      for (const prop in EVENT_ENTITY_PROPS) {
        const v = record[prop];
        if (v !== null && typeof v === 'object') checkEntity(v as Record<string, unknown>, EVENT_ENTITY_PROPS[prop]!, `${at}.${prop}`, issues);
      }
      if (event.extensions) checkNoNulls(event.extensions, `${at}.extensions`, issues);
    });
    for (const issue of issues) ctx.addIssue({ code: 'custom', path: [], message: `${issue.at}: ${issue.message}` });
  });

/** `data[0].object.type: must be …` — one line per problem, path first. */
export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], prefix = ''): string {
  return issues
    .map((i) => {
      const path = i.path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), prefix);
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}

export type ValidationResult = { ok: true } | { ok: false; error: string };

/** Checks a Caliper 1.1 envelope as we emit it (and as Canvas does when set to "Caliper IMS"). */
export function validateEnvelope(envelope: unknown): ValidationResult {
  const result = EnvelopeSchema.safeParse(envelope);
  return result.success ? { ok: true } : { ok: false, error: formatIssues(result.error.issues) };
}

export type { Envelope };
