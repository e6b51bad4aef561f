// Caliper 1.2 validation against the tables of model12.ts: the envelope, each event's type × action ×
// entity types per role (with the rules that hold for one action), its profile, and every entity's
// type, properties and property values, nested entities included; no nulls anywhere.
// `validateEnvelope12` checks an envelope as the caliper-1.2 format emits it (one event, its profile
// the one its event type belongs to); `validateCaliper12` checks any Caliper 1.2 document (an envelope
// of events and entities, an event, an entity), as IMS's fixtures are.
import {
  ACTIONS_12,
  CALIPER_12_CONTEXT,
  ENTITY_TYPES_12,
  EVENT_RULES_12,
  IDENTIFIER_TYPES_12,
  isA12,
  properties12,
  PROFILES_12,
  requiredProperties12,
  ROLE_TERMS_12,
  type EventRule12,
  type Kind12,
} from './model12.js';
import { REFERENCE_ROLES, type ValidationResult } from './model.js';
import { isPlainObject } from '../json.js';

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
/** The form we emit (and IMS's fixtures use): UTC with milliseconds. */
const DATE_TIME_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;
const UUID_URN = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DURATION = /^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$/;

const EVENT_PROPERTIES = new Set([
  '@context', 'id', 'type', 'profile', 'actor', 'action', 'object', 'eventTime', 'edApp', 'generated', 'target', 'referrer', 'group',
  'membership', 'session', 'federatedSession', 'extensions',
]);
/** The entity type each event property takes, whatever the event type. */
const EVENT_ENTITY_PROPERTIES: Readonly<Record<string, string>> = {
  actor: 'Agent', object: 'Entity', generated: 'Entity', target: 'Entity', referrer: 'Entity', edApp: 'SoftwareApplication',
  group: 'Organization', membership: 'Membership', session: 'Session', federatedSession: 'LtiSession',
};
const ROLES = ['actor', 'object', 'generated', 'target', 'referrer'] as const;

type Issues = string[];

export interface Options12 {
  /** Paths of numbers written without a fraction or exponent (from `parseCaliperJson`): a decimal property must not be one. */
  integerLexemes?: ReadonlySet<string>;
  /** Our own output: UTC date-times with milliseconds, and each event's profile is the one its type belongs to. */
  emitted?: boolean;
}

interface Ctx {
  issues: Issues;
  options: Options12;
}

function context(value: unknown, at: string, ctx: Ctx, required: boolean): void {
  if (value === undefined) {
    if (required) ctx.issues.push(`${at}.@context: is required (${CALIPER_12_CONTEXT})`);
    return;
  }
  // The 1.2 context IRI, a list that holds it (with extension contexts), or an inline context object.
  const ok = value === CALIPER_12_CONTEXT || isPlainObject(value) || (Array.isArray(value) && value.includes(CALIPER_12_CONTEXT) && value.every((c) => typeof c === 'string' || isPlainObject(c)));
  if (!ok) ctx.issues.push(`${at}.@context: must be ${CALIPER_12_CONTEXT} (or a list that holds it)`);
}

function dateTime(v: unknown, ctx: Ctx): string | undefined {
  const form = ctx.options.emitted ? DATE_TIME_MS : DATE_TIME;
  return typeof v === 'string' && form.test(v) && !Number.isNaN(Date.parse(v)) ? undefined : 'must be an ISO 8601 date-time (YYYY-MM-DDTHH:mm:ss.SSSZ)';
}

/** A reference to an entity: its IRI, or the entity object of one of `types`. */
function entityRef(v: unknown, types: readonly string[], at: string, ctx: Ctx): void {
  if (typeof v === 'string') {
    if (!IRI.test(v)) ctx.issues.push(`${at}: must be an absolute IRI or an entity object`);
  } else if (isPlainObject(v)) checkEntity(v, types, at, ctx, false);
  else ctx.issues.push(`${at}: must be an entity object or an IRI`);
}

function checkValue(kind: Kind12, v: unknown, at: string, ctx: Ctx): void {
  const problem = (message: string | undefined) => message && ctx.issues.push(`${at}: ${message}`);
  if (typeof kind === 'object') {
    if ('entity' in kind) return entityRef(v, kind.entity, at, ctx);
    if ('entities' in kind) {
      if (!Array.isArray(v)) return void problem('must be a list of entities or IRIs');
      return v.forEach((item, i) => entityRef(item, kind.entities, `${at}[${i}]`, ctx));
    }
    return void problem(typeof v === 'string' && kind.term.includes(v) ? undefined : `must be one of ${kind.term.join(', ')}`);
  }
  switch (kind) {
    case 'string':
      return void problem(typeof v === 'string' ? undefined : 'must be a string');
    case 'strings':
      return void problem(Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'must be a list of strings');
    case 'integer':
      return void problem(Number.isSafeInteger(v) ? undefined : 'must be an integer');
    case 'nonNegativeInteger':
      return void problem(Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'must be a non-negative integer');
    case 'decimal':
      if (typeof v !== 'number' || !Number.isFinite(v)) return void problem('must be a decimal number');
      return void problem(ctx.options.integerLexemes?.has(at.replace(/^\./, '')) ? 'must be a decimal, written with a fraction (e.g. 15.0), not an integer' : undefined);
    case 'boolean':
      return void problem(typeof v === 'boolean' ? undefined : 'must be true or false');
    case 'dateTime':
      return void problem(dateTime(v, ctx));
    case 'duration':
      return void problem(typeof v === 'string' && DURATION.test(v) ? undefined : 'must be an ISO 8601 duration (e.g. PT50M12S)');
    case 'iri':
      return void problem(typeof v === 'string' && IRI.test(v) ? undefined : 'must be an absolute IRI');
    case 'object':
      if (!isPlainObject(v)) return void problem('must be an object');
      return checkJson(v, at, ctx);
    case 'roles':
      if (!Array.isArray(v) || v.length === 0) return void problem('must be a non-empty list of role terms');
      // An envelope we emit also keeps to the roles IMS's reference implementation knows; any 1.2 document may use all of 1.2's.
      return v.forEach((r, i) => {
        if (!ROLE_TERMS_12.has(r as string)) ctx.issues.push(`${at}[${i}]: "${String(r)}" is not a Caliper role term`);
        else if (ctx.options.emitted && !REFERENCE_ROLES.has(r as string)) ctx.issues.push(`${at}[${i}]: "${String(r)}" is a 1.2 role IMS's reference implementation refuses`);
      });
    case 'status':
      return void problem(v === 'Active' || v === 'Inactive' ? undefined : 'must be Active or Inactive');
    case 'selector':
      return void problem(
        isPlainObject(v) && v.type === 'TextPositionSelector' && Number.isSafeInteger(v.start) && Number.isSafeInteger(v.end) ? undefined : 'must be a TextPositionSelector with integer start and end',
      );
    case 'identifiers':
      if (!Array.isArray(v)) return void problem('must be a list of SystemIdentifiers');
      return v.forEach((item, i) => checkSystemIdentifier(item, `${at}[${i}]`, ctx));
  }
}

/** A SystemIdentifier (fragments/identifiers/): identifier and identifierType required, source a SoftwareApplication. */
function checkSystemIdentifier(v: unknown, at: string, ctx: Ctx): void {
  if (!isPlainObject(v)) return void ctx.issues.push(`${at}: must be a SystemIdentifier object`);
  if (v.type !== 'SystemIdentifier') return void ctx.issues.push(`${at}.type: must be SystemIdentifier, not ${JSON.stringify(v.type)}`);
  if (typeof v.identifier !== 'string') ctx.issues.push(`${at}.identifier: is required (a string)`);
  if (typeof v.identifierType !== 'string' || !IDENTIFIER_TYPES_12.includes(v.identifierType)) {
    ctx.issues.push(`${at}.identifierType: must be one of ${IDENTIFIER_TYPES_12.join(', ')}`);
  }
  for (const key of Object.keys(v)) {
    const value = v[key];
    if (value === null) ctx.issues.push(`${at}.${key}: is null (leave it out)`);
    else if (key === 'source') entityRef(value, ['SoftwareApplication'], `${at}.source`, ctx);
    else if (key === 'extensions') checkValue('object', value, `${at}.extensions`, ctx);
    else if (key === '@context') context(value, at, ctx, false);
    else if (!['type', 'identifier', 'identifierType'].includes(key)) ctx.issues.push(`${at}.${key}: "${key}" is not a property of SystemIdentifier`);
  }
}

/** An entity object: a known type of one of `expected`, an IRI id, only its type's properties, each of its kind, no nulls. */
function checkEntity(v: Record<string, unknown>, expected: readonly string[], at: string, ctx: Ctx, topLevel: boolean): void {
  const type = v.type;
  if (typeof type !== 'string' || !ENTITY_TYPES_12.includes(type)) return void ctx.issues.push(`${at}.type: ${JSON.stringify(type)} is not a Caliper 1.2 entity type`);
  if (!expected.some((e) => isA12(type, e))) ctx.issues.push(`${at}.type: must be a ${expected.join(' or ')}, not "${type}"`);
  if (v.id === undefined) ctx.issues.push(`${at}.id: is required (an absolute IRI)`);
  const props = properties12(type);
  for (const key of Object.keys(v)) {
    const value = v[key];
    if (value === null || value === undefined) ctx.issues.push(`${at}.${key}: is null (null and empty values must be left out)`);
    else if (key === '@context') context(value, at, ctx, false);
    else {
      const kind = props.get(key);
      if (kind === undefined) ctx.issues.push(`${at}.${key}: "${key}" is not a property of ${type}`);
      else if (key !== 'type') checkValue(kind, value, `${at}.${key}`, ctx);
    }
  }
  for (const key of requiredProperties12(type)) if (v[key] === undefined) ctx.issues.push(`${at}.${key}: is required on ${type}`);
  if (topLevel) context(v['@context'], at, ctx, true);
}

/** Extensions and other free JSON: no nulls, no non-finite numbers. */
function checkJson(value: unknown, at: string, ctx: Ctx): void {
  if (value === null || value === undefined) ctx.issues.push(`${at}: is null (null and empty values must be left out)`);
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) ctx.issues.push(`${at}: must be a finite number`);
  } else if (Array.isArray(value)) value.forEach((v, i) => checkJson(v, `${at}[${i}]`, ctx));
  else if (typeof value === 'object') for (const k of Object.keys(value)) checkJson((value as Record<string, unknown>)[k], `${at}.${k}`, ctx);
}

const typeOf = (v: unknown): string | undefined => (isPlainObject(v) && typeof v.type === 'string' ? v.type : undefined);

function checkEvent(e: Record<string, unknown>, at: string, ctx: Ctx): void {
  const type = e.type as string;
  const rule: EventRule12 = EVENT_RULES_12[type]!;
  context(e['@context'], at, ctx, true);
  if (typeof e.id !== 'string' || !UUID_URN.test(e.id)) ctx.issues.push(`${at}.id: must be urn:uuid: followed by a UUID`);
  for (const key of ['actor', 'action', 'object', 'eventTime']) if (e[key] === undefined) ctx.issues.push(`${at}.${key}: is required`);
  for (const key of Object.keys(e)) {
    if (!EVENT_PROPERTIES.has(key)) ctx.issues.push(`${at}.${key}: "${key}" is not a property of ${type}`);
    else if (e[key] === null) ctx.issues.push(`${at}.${key}: is null (null and empty values must be left out)`);
  }
  const profile = e.profile;
  if (profile !== undefined && profile !== null) {
    if (typeof profile !== 'string' || !(PROFILES_12 as readonly string[]).includes(profile)) ctx.issues.push(`${at}.profile: ${JSON.stringify(profile)} is not a Caliper 1.2 profile`);
    else if (ctx.options.emitted && !(rule.profiles as readonly string[]).includes(profile)) {
      ctx.issues.push(`${at}.profile: ${type} belongs to ${rule.profiles.join(' or ')}, not ${profile}`);
    }
  } else if (ctx.options.emitted) ctx.issues.push(`${at}.profile: is required (the profile of ${type})`);
  const action = e.action;
  if (action !== undefined && action !== null) {
    if (typeof action !== 'string' || !(ACTIONS_12 as readonly string[]).includes(action)) ctx.issues.push(`${at}.action: ${JSON.stringify(action)} is not a Caliper 1.2 action`);
    else if (!rule.actions.includes(action)) ctx.issues.push(`${at}.action: ${type} does not allow action "${action}" (allowed: ${rule.actions.join(', ')})`);
  }
  if (e.eventTime !== undefined && e.eventTime !== null) {
    const problem = dateTime(e.eventTime, ctx);
    if (problem) ctx.issues.push(`${at}.eventTime: ${problem}`);
  }
  const byAction = typeof action === 'string' ? rule.byAction?.[action] : undefined;
  for (const key of byAction?.required ?? []) if (e[key] === undefined) ctx.issues.push(`${at}.${key}: is required for ${type} ${String(action)}`);
  for (const [prop, base] of Object.entries(EVENT_ENTITY_PROPERTIES)) {
    const v = e[prop];
    if (v === undefined || v === null) continue;
    const role = (ROLES as readonly string[]).includes(prop) ? ((byAction?.[prop as (typeof ROLES)[number]] ?? rule[prop as (typeof ROLES)[number]]) as readonly string[] | undefined) : undefined;
    if (role && role.length === 0) {
      ctx.issues.push(`${at}.${prop}: ${type} has no ${prop}`);
      continue;
    }
    entityRef(v, role ?? [base], `${at}.${prop}`, ctx);
    const t = typeOf(v);
    if (t && role && ENTITY_TYPES_12.includes(t) && !role.some((r) => isA12(t, r))) {
      // entityRef reported it already (as "must be a …"); nothing more to add.
    }
  }
  if (e.extensions !== undefined && e.extensions !== null) checkValue('object', e.extensions, `${at}.extensions`, ctx);
}

const isEventType = (t: unknown): t is string => typeof t === 'string' && Object.prototype.hasOwnProperty.call(EVENT_RULES_12, t);

/** An event or an entity (an envelope's data item, or a document on its own). */
function checkItem(v: unknown, at: string, ctx: Ctx): void {
  if (!isPlainObject(v)) return void ctx.issues.push(`${at}: must be an event or entity object`);
  if (isEventType(v.type)) return checkEvent(v, at, ctx);
  if (v.type === 'SystemIdentifier') return checkSystemIdentifier(v, at, ctx);
  if (v.type === 'TextPositionSelector') {
    const { '@context': ctxValue, ...selector } = v;
    context(ctxValue, at, ctx, false);
    for (const key of Object.keys(selector)) if (!['type', 'start', 'end'].includes(key)) ctx.issues.push(`${at}.${key}: "${key}" is not a property of TextPositionSelector`);
    return checkValue('selector', selector, at, ctx);
  }
  if (typeof v.type === 'string' && /Event$/.test(v.type) && !ENTITY_TYPES_12.includes(v.type)) {
    return void ctx.issues.push(`${at}.type: "${v.type}" is not a Caliper 1.2 event type`);
  }
  checkEntity(v, ['Entity'], at, ctx, true);
}

function checkEnvelopeShape(v: Record<string, unknown>, ctx: Ctx): void {
  for (const key of Object.keys(v)) if (!['sensor', 'sendTime', 'dataVersion', 'data'].includes(key)) ctx.issues.push(`${key}: is not an envelope property`);
  if (typeof v.sensor !== 'string' || !IRI.test(v.sensor)) ctx.issues.push('sensor: must be an absolute IRI');
  const problem = dateTime(v.sendTime, ctx);
  if (problem) ctx.issues.push(`sendTime: ${problem}`);
  if (v.dataVersion !== CALIPER_12_CONTEXT) ctx.issues.push(`dataVersion: must be ${CALIPER_12_CONTEXT}`);
  if (!Array.isArray(v.data)) ctx.issues.push('data: must be a list of events and entities');
}

const result = (ctx: Ctx): ValidationResult => (ctx.issues.length ? { ok: false, error: ctx.issues.join('; ') } : { ok: true });

/** An envelope as the caliper-1.2 format emits it: one event, with its profile, every rule of 1.2. */
export function validateEnvelope12(envelope: unknown, options: Options12 = {}): ValidationResult {
  const ctx: Ctx = { issues: [], options: { ...options, emitted: true } };
  if (!isPlainObject(envelope)) return { ok: false, error: 'must be a Caliper envelope object' };
  checkEnvelopeShape(envelope, ctx);
  if (Array.isArray(envelope.data)) {
    if (envelope.data.length !== 1) ctx.issues.push('data: must hold exactly one event (one event per envelope)');
    envelope.data.forEach((item, i) => {
      if (!isPlainObject(item) || !isEventType(item.type)) ctx.issues.push(`data[${i}]: must be a Caliper 1.2 event`);
      else checkEvent(item, `data[${i}]`, ctx);
    });
  }
  return result(ctx);
}

/**
 * Any Caliper 1.2 document: an envelope (each data item an event or an entity, as many as it holds),
 * an event, or an entity (SystemIdentifier included). `integerLexemes` (from parseCaliperJson) lets
 * it refuse decimals written as integers.
 */
export function validateCaliper12(value: unknown, options: Options12 = {}): ValidationResult {
  const ctx: Ctx = { issues: [], options };
  if (isPlainObject(value) && 'sensor' in value && 'data' in value) {
    checkEnvelopeShape(value, ctx);
    if (Array.isArray(value.data)) value.data.forEach((item, i) => checkItem(item, `data[${i}]`, ctx));
  } else checkItem(value, '', ctx);
  return result(ctx);
}

/**
 * JSON.parse, plus the path of every number written as an integer (no fraction, no exponent), in the
 * validator's path notation (`data[0].object.maxScore`): JSON.parse reads 15 and 15.0 as the same
 * number, and IMS's fixtures tell them apart for xsd:decimal properties.
 */
export function parseCaliperJson(text: string): { value: unknown; integerLexemes: Set<string> } {
  const value: unknown = JSON.parse(text);
  const integerLexemes = new Set<string>();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const str = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const walk = (at: string): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        const key = str();
        ws();
        i++; // :
        walk(at ? `${at}.${key}` : key);
        ws();
        if (text[i++] === '}') return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        walk(`${at}[${n}]`);
        ws();
        if (text[i++] === ']') return;
      }
    }
    if (c === '"') return void str();
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?|^(true|false|null)/.exec(text.slice(i, i + 400));
    if (m && m[0] && /\d/.test(m[0][0] === '-' ? m[0][1]! : m[0][0]!) && m[1] === undefined && m[2] === undefined) integerLexemes.add(at);
    i += m ? m[0].length : 1;
  };
  walk('');
  return { value, integerLexemes };
}
