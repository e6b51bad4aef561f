// Shared builders: everything that is the same across Canvas events (actor, edApp, group, membership,
// session, referrer, extensions) is built here, once. A mapper only describes its object.
import type { Metadata, RawEvent } from '../src/raw.js';
import type { Action, CaliperEvent, Entity, EventType } from '../src/caliper/model.js';
import { CALIPER_CONTEXT, isA, specActors } from '../src/caliper/model.js';
import { appUrl, courseUrn, sectionUrn, sessionUrn, urn, userUrn } from './ids.js';
import { FieldError } from '../src/errors.js';
import { table } from '../src/table.js';
import { maskUrl } from '../src/privacy/url.js';
import { caliperTime, describe, idString, ltiIdString, type RawId } from './values.js';

export const EXT = 'com.instructure.canvas';
/** Instructure's "Canvas implementation version of Caliper p1v1 events". */
export const CANVAS_CALIPER_VERSION = '1.0.0';

/** `{ "com.instructure.canvas": fields }`: where Instructure puts everything Caliper has no term for. */
export const canvasExtensions = (fields: Record<string, unknown>) => ({ [EXT]: fields });

/** A Canvas context that an event happened in. `sectionId` narrows a course to one of its sections. */
export interface Context {
  type: string;
  id: string;
  sectionId?: string;
}

/** What a mapper contributes; the event builder adds the rest. */
export interface EventParts {
  object: Entity;
  generated?: Entity;
  /** The context of the object, when the body knows it better than metadata (default: see `eventContext`). */
  context?: Context;
  /** Instructure omits `group` for some events while still giving the membership (syllabus_updated). */
  omitGroup?: boolean;
  /** The actor, when the event names it better than the request does (grade_change: the grader). */
  actor?: Entity;
  /** Who acted when metadata names no user (e.g. an LTI grade passback carries the student in the body). */
  actorUserId?: string;
  /**
   * How to attribute a request Canvas could not tie to a user. Default: Person `user:0`. Navigation
   * by an unidentified visitor (public file, calendar feed) is attributed to the application, as
   * Instructure's asset_accessed examples show.
   */
  anonymousActor?: 'application';
}

export interface EventDescription {
  type: EventType;
  action: Action;
}

// ---------------------------------------------------------------------------------------------
// Small field helpers used by mappers

export const id = (value: unknown, field: string): string => idString(value as RawId, field);
/** An LTI id (resource link, context): not a Canvas id, but also safe in a URN. */
export const ltiId = (value: unknown, field: string): string => ltiIdString(value, field);
export const optId = (value: unknown, field: string): string | undefined =>
  value === null || value === undefined ? undefined : idString(value as RawId, field);
/** A Canvas timestamp as a Caliper date-time; absent stays absent, anything but a timestamp string is refused. */
export const time = (value: unknown, field: string): string | undefined => {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw new FieldError(field, `must be a timestamp string (ISO 8601), not ${describe(value)}`);
  return caliperTime(value, field);
};
/** A URL as keep publishes it (`maskUrl`: query values not on Canvas's allowlist masked); absent stays absent, a non-string is refused. */
export const url = (value: unknown, field: string): string | undefined => {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw new FieldError(field, `must be a URL string, not ${describe(value)}`);
  return maskUrl(value);
};

/** Fields whose names say they hold a timestamp or a URL (normalised / filtered wherever they appear). */
const isTimeField = (key: string) => key.endsWith('_at');
const isUrlField = (key: string) => key === 'url' || key.endsWith('_url');

/** A body value as it goes into extensions: timestamps normalised, URLs masked (`maskUrl`), the rest as sent. */
function canvasValue(key: string, value: unknown, field: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (isTimeField(key) && typeof value !== 'boolean') return time(value, field);
  if (isUrlField(key)) return url(value, field);
  if (Array.isArray(value)) return value.map((item, i) => canvasValue('', item, `${field}[${i}]`));
  if (typeof value === 'object') return bodyFields(value as Record<string, unknown>, [], field);
  return value;
}

/**
 * Every body field a mapper has not put into a Caliper property, under its Canvas name, for the
 * object's `com.instructure.canvas` extensions: our own event types drop no known field
 * (docs/mapping-rules.md, "Nothing dropped"). The body holds known fields only: the engine left out
 * every field Canvas does not document for the type and its mapper does not read (src/known-fields.ts),
 * so no name is judged here. Timestamps (`*_at`) are normalised like every Caliper date-time, URLs
 * (`url`, `*_url`) have query values not on Canvas's allowlist masked; every other value, nested
 * objects under a known field included, stays as Canvas sent it.
 */
export function bodyFields(b: Record<string, unknown>, placed: readonly string[] = [], at = 'body'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(b)) {
    if (placed.includes(key)) continue;
    const value = canvasValue(key, b[key], `${at}.${key}`);
    if (value === undefined) continue;
    // defineProperty: a `__proto__` field is data like any other, not the object's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}
export const person = (userId: string, extensions?: Record<string, unknown>): Entity => ({
  id: userUrn(userId),
  type: 'Person',
  extensions: extensions && canvasExtensions(extensions),
});

// ---------------------------------------------------------------------------------------------
// Request or job?

/** A user-generated event comes from an HTTP request and carries its fields; a job's event does not. */
export function isUserGenerated(m: Metadata): boolean {
  return m.request_id != null || m.hostname != null || m.session_id != null || m.url != null;
}

export function edApp(m: Metadata): Entity {
  return { id: appUrl(m.hostname ?? undefined), type: 'SoftwareApplication' };
}

export function actor(m: Metadata, parts: EventParts): Entity {
  const userId = optId(m.user_id, 'metadata.user_id') ?? parts.actorUserId;
  const account = {
    root_account_id: optId(m.root_account_id, 'metadata.root_account_id'),
    root_account_lti_guid: m.root_account_lti_guid,
    root_account_uuid: m.root_account_uuid,
  };
  if (userId !== undefined) {
    return person(userId, {
      user_login: m.user_login,
      user_sis_id: m.user_sis_id,
      ...account,
      entity_id: userId,
      real_user_id: optId(m.real_user_id, 'metadata.real_user_id'),
    });
  }
  if (!isUserGenerated(m) || parts.anonymousActor === 'application') return edApp(m);
  return person('0', account);
}

// ---------------------------------------------------------------------------------------------
// Group and membership

/** The object's own context when the body names one, else the request's context from metadata. */
export function eventContext(raw: RawEvent): Context | undefined {
  const b = raw.body;
  if (typeof b.context_type === 'string' && b.context_id != null) {
    return { type: b.context_type, id: id(b.context_id, 'body.context_id') };
  }
  const m = raw.metadata;
  if (m.context_type && m.context_id != null) return { type: m.context_type, id: id(m.context_id, 'metadata.context_id') };
  return undefined;
}

/** CourseOffering, CourseSection or Group; other Canvas contexts (Account, User, …) have no Caliper group. */
export function group(ctx: Context): Entity | undefined {
  let id: string;
  let type: string;
  switch (ctx.type) {
    case 'Course':
      [id, type] = ctx.sectionId ? [sectionUrn(ctx.id, ctx.sectionId), 'CourseSection'] : [courseUrn(ctx.id), 'CourseOffering'];
      break;
    case 'CourseSection':
      [id, type] = [urn('course_section', ctx.id), 'CourseSection'];
      break;
    case 'Group':
      [id, type] = [urn('group', ctx.id), 'Group'];
      break;
    default:
      return undefined;
  }
  return { id, type, extensions: canvasExtensions({ context_type: ctx.type, entity_id: ctx.id }) };
}

/**
 * Canvas enrollment roles as Caliper (LIS) role terms, and the segment Instructure puts in the
 * membership id. Teacher and Student are Instructure's; the rest are ours (docs/roles.md).
 */
export const ROLES: Record<string, { segment: string; roles: string[] }> = table({
  TeacherEnrollment: { segment: 'Instructor', roles: ['Instructor'] },
  StudentEnrollment: { segment: 'Learner', roles: ['Learner'] },
  // Instructor only: IMS's 1.1 schema knows Instructor#TeachingAssistant, its reference implementation does not (docs/roles.md).
  TaEnrollment: { segment: 'TeachingAssistant', roles: ['Instructor'] },
  DesignerEnrollment: { segment: 'ContentDeveloper', roles: ['ContentDeveloper'] },
  ObserverEnrollment: { segment: 'Mentor', roles: ['Mentor'] },
  StudentViewEnrollment: { segment: 'Learner', roles: ['Learner'] },
  GroupMembership: { segment: 'Member', roles: ['Member'] },
  AccountAdmin: { segment: 'Administrator', roles: ['Administrator'] },
  AccountMembership: { segment: 'Administrator', roles: ['Administrator'] },
});

export function membership(ctx: Context, organization: Entity, member: Entity, contextRole: string | null | undefined): Entity {
  const role = contextRole ? ROLES[contextRole] : undefined;
  const userId = member.id.slice(member.id.lastIndexOf(':') + 1);
  return {
    id: `${organization.id}:${role?.segment ?? 'user'}:${userId}`,
    type: 'Membership',
    member: { id: member.id, type: 'Person' },
    organization: {
      id: organization.id,
      type: organization.type,
      // A section's membership names the course the section belongs to, as Instructure does.
      subOrganizationOf: ctx.sectionId ? { id: courseUrn(ctx.id), type: 'CourseOffering' } : undefined,
    },
    roles: role?.roles,
  };
}

// ---------------------------------------------------------------------------------------------
// The event

const UNKNOWN_USER = userUrn('0');

/** Whether the event type takes this actor type for this action by the spec. */
function actorAllowed(type: EventType, action: string, actorType: string): boolean {
  return specActors(type, action).some((a) => isA(actorType, a));
}

/** An absolute IRI (what Caliper's referrer must be). */
const ABSOLUTE_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;

export function requestExtensions(m: Metadata, relativeReferrer?: string) {
  return canvasExtensions({
    hostname: m.hostname,
    request_id: m.request_id,
    user_agent: m.user_agent,
    client_ip: m.client_ip,
    request_url: url(m.url, 'metadata.url'),
    // A referrer Caliper cannot take (relative, not a URL) is kept here rather than refusing the event.
    referrer: relativeReferrer,
    job_id: optId(m.job_id, 'metadata.job_id'),
    job_tag: m.job_tag,
    version: CANVAS_CALIPER_VERSION,
  });
}

/**
 * The Caliper event for a raw Canvas event: the mapper's parts plus everything shared. The result may
 * still hold null/undefined values; the engine prunes them once for the whole envelope.
 */
export function caliperEvent(raw: RawEvent, what: EventDescription, parts: EventParts, eventId: string, instructureType = false): CaliperEvent {
  const m = raw.metadata;
  const who = parts.actor ?? actor(m, parts);
  // A Canvas job (course copy, import, auto-grading) acts as the application. One of Instructure's 32
  // types keeps the type Instructure emits for its event name, whoever the actor is (departure 11); for
  // ours, where the event type requires a Person actor, the job's event is the generic Event with the
  // same action (docs/event-types.md, "Events made by a Canvas job").
  const type = instructureType || actorAllowed(what.type, what.action, who.type) ? what.type : 'Event';
  const referrer = url(m.referrer, 'metadata.referrer');
  const absoluteReferrer = referrer && ABSOLUTE_IRI.test(referrer) ? referrer : undefined;
  const fromRequest = isUserGenerated(m);
  const byUser = who.type === 'Person' && who.id !== UNKNOWN_USER && fromRequest;
  const ctx = parts.context ?? eventContext(raw);
  const org = ctx && group(ctx);
  return {
    '@context': CALIPER_CONTEXT,
    id: eventId,
    type,
    actor: who,
    action: what.action,
    object: parts.object,
    eventTime: caliperTime(m.event_time, 'metadata.event_time'),
    generated: parts.generated,
    referrer: absoluteReferrer,
    edApp: edApp(m),
    group: parts.omitGroup ? undefined : org,
    membership: byUser && ctx && org ? membership(ctx, org, who, m.context_role) : undefined,
    session: fromRequest && m.session_id ? { id: sessionUrn(m.session_id), type: 'Session' } : undefined,
    extensions: requestExtensions(m, referrer && !absoluteReferrer ? referrer : undefined),
  };
}
