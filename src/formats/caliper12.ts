// `caliper-1.2`: IMS Caliper 1.2, as strict as caliper-1.1. The same transform of Instructure's event
// (caliper11.ts: the spec's form of each departure, typed entities, nothing dropped) with 1.2's
// vocabulary (model12.ts), then 1.2's own terms where they fit Canvas better: the event type, action
// and profile table below, LtiLink for LTI resource links, and the options a 1.2 platform needs
// (CALIPER_EDAPP_ID, CALIPER_SESSION). docs/format-caliper-1.2.md explains each table.
import type { CaliperEvent, Entity, EventType } from '../caliper/model.js';
import { allowedProperties12, CALIPER_12_CONTEXT, EVENT_RULES_12 as EVENT_TYPE_RULES_12, holdsEntities12, isA12, requiredProperties12, type Profile12 } from '../caliper/model12.js';
import type { RawEvent } from '../raw.js';
import { table } from '../table.js';
import { edApp, optId } from '../../mappers/builders.js';
import { urn } from '../../mappers/ids.js';
import { applyEntityRules, ENTITY_TYPE_BY_KIND_11, EVENT_RULES_11, genericWhenActorRefused, type Vocabulary } from './caliper11.js';
import { forEachEntity, canvasExtensionsOf, isEntity, ordered, setData } from './entities.js';

export { CALIPER_12_CONTEXT };

export interface Caliper12Options {
  /** The edApp's id, e.g. the id a platform assigned to the Canvas integration (CALIPER_EDAPP_ID); default: the Canvas host. */
  edAppId?: string;
  /** `auto-attach` (CALIPER_SESSION): the session is `urn:tag:auto-attach`, for the platform to attach its own. */
  session?: 'auto-attach';
  /** CALIPER_NAVIGATION: `view` makes a content view (asset_accessed) ViewEvent Viewed; default `navigation`, NavigationEvent NavigatedTo. */
  navigation?: 'navigation' | 'view';
}

export const NAVIGATION_STYLES = ['navigation', 'view'] as const;

/** CALIPER_SESSION=auto-attach: the session IRI a platform such as TimeBack reads as "attach the session you know". */
export const AUTO_ATTACH_SESSION = 'urn:tag:auto-attach';

/** Entity types by URN kind: 1.1's, and 1.2's LtiLink for an LTI resource link (a DigitalResource in 1.1). */
export const ENTITY_TYPE_BY_KIND_12: Readonly<Record<string, string>> = table({
  ...ENTITY_TYPE_BY_KIND_11,
  'lti/resource_link': 'LtiLink',
});
/** Kinds whose entities take the 1.2 type even when the mapper gave a (less specific) type. */
const RETYPED_KINDS_12 = new Set(['lti/resource_link']);

export const VOCABULARY_12: Vocabulary = {
  holdsEntities: holdsEntities12,
  properties: { allowed: allowedProperties12 },
  entityType: (kind) => (kind && ENTITY_TYPE_BY_KIND_12[kind]) || 'DigitalResource',
  required: requiredProperties12,
  retype: (kind) => (kind && RETYPED_KINDS_12.has(kind) ? ENTITY_TYPE_BY_KIND_12[kind] : undefined),
};

/**
 * 1.1 → 1.2, by event type: the profile each event type belongs to. NavigationEvent belongs to the
 * profile of what it navigated to (1.2's profiles list it under Reading, Assessment, Assignable, Forum).
 */
export const PROFILE_BY_EVENT_TYPE_12: Readonly<Record<string, Profile12>> = table<Profile12>({
  Event: 'GeneralProfile',
  AssessmentEvent: 'AssessmentProfile',
  AssignableEvent: 'AssignableProfile',
  GradeEvent: 'GradingProfile',
  MessageEvent: 'ForumProfile',
  ThreadEvent: 'ForumProfile',
  ForumEvent: 'ForumProfile',
  SessionEvent: 'SessionProfile',
  ResourceManagementEvent: 'ResourceManagementProfile',
  FeedbackEvent: 'FeedbackProfile',
  NavigationEvent: 'ReadingProfile',
  ViewEvent: 'ReadingProfile',
  ToolUseEvent: 'ToolUseProfile',
  MediaEvent: 'MediaProfile',
  AnnotationEvent: 'AnnotationProfile',
});
/** NavigationEvent: the profile by the type of its object (the first the object is a kind of). */
const NAVIGATION_PROFILES_12: readonly [string, Profile12][] = [
  ['Assessment', 'AssessmentProfile'],
  ['AssessmentItem', 'AssessmentProfile'],
  ['AssignableDigitalResource', 'AssignableProfile'],
  ['Forum', 'ForumProfile'],
  ['Thread', 'ForumProfile'],
  ['Message', 'ForumProfile'],
];

/**
 * 1.1 → 1.2, by action of the generic Event: a person managing a DigitalResource (creating, modifying,
 * deleting a page, file, assignment, quiz, topic, module, …) is 1.2's ResourceManagementEvent with the
 * same action (ResourceManagementProfile). Other generic Events (an organization, a person, a
 * membership changed; anything a Canvas job did) stay the generic Event (GeneralProfile).
 */
export const RESOURCE_MANAGEMENT_ACTIONS_12: ReadonlySet<string> = new Set(['Created', 'Modified', 'Deleted']);

function eventType12(event: CaliperEvent): void {
  const object = event.object;
  if (
    event.type === 'Event' &&
    RESOURCE_MANAGEMENT_ACTIONS_12.has(event.action) &&
    isA12(object.type, 'DigitalResource') &&
    event.actor.type === 'Person'
  ) {
    event.type = 'ResourceManagementEvent' as EventType;
  }
  let profile = PROFILE_BY_EVENT_TYPE_12[event.type] ?? 'GeneralProfile';
  if (event.type === 'NavigationEvent' || event.type === 'ViewEvent') profile = NAVIGATION_PROFILES_12.find(([t]) => isA12(object.type, t))?.[1] ?? profile;
  event.profile = profile;
}

/**
 * 1.2's own terms for a few Canvas events, after the 1.1 rules (by event_name):
 * - submission_comment_created: a comment on a submission is feedback on it — 1.2's FeedbackEvent
 *   Commented, object the submission (Attempt), generated the Comment (commenter, commentedOn, value),
 *   rather than a Message posted to no thread. A job's comment with no author stays the generic Event.
 * - attachment_created by a person: the file was uploaded — ResourceManagementEvent Uploaded.
 */
export const EVENT_RULES_12: Readonly<Record<string, (event: CaliperEvent, raw: RawEvent) => void>> = table({
  submission_comment_created: (event, raw) => {
    const submissionId = optId(raw.body.submission_id, 'body.submission_id');
    if (event.type !== 'MessageEvent' || submissionId === undefined) return;
    const { creators, body, ...comment } = event.object;
    const attempt = { id: urn('submission', submissionId), type: 'Attempt' };
    event.type = 'FeedbackEvent' as EventType;
    event.action = 'Commented' as CaliperEvent['action'];
    event.object = attempt;
    event.generated = { ...comment, type: 'Comment', commenter: Array.isArray(creators) ? creators[0] : undefined, commentedOn: attempt, value: body };
  },
});
const ACTIONS_12: Readonly<Record<string, Readonly<Record<string, string>>>> = table({ attachment_created: { Created: 'Uploaded' } });

/**
 * CALIPER_NAVIGATION=view: Canvas reports a person opening a page, file, assignment, quiz, topic or tab
 * as asset_accessed; a platform that counts reading (TimeBack) counts ViewEvent Viewed. The object
 * must be a DigitalResource (a view by an unidentified visitor is no NavigationEvent to begin with).
 */
function viewed(event: CaliperEvent): void {
  if (event.type === 'NavigationEvent' && isA12(event.object.type, 'DigitalResource')) {
    event.type = 'ViewEvent';
    event.action = 'Viewed';
  }
}

/**
 * CALIPER_SESSION=auto-attach leaves a login and a logout their own session: they begin and end it,
 * which a platform cannot attach by itself. The session is Canvas's, with the event's time as its
 * start (LoggedIn) or end (LoggedOut): Canvas sends no other session time.
 */
const SESSION_TIMES_12: Readonly<Record<string, 'startedAtTime' | 'endedAtTime'>> = table({ LoggedIn: 'startedAtTime', LoggedOut: 'endedAtTime' });

/** CALIPER_EDAPP_ID: the Canvas application (edApp, and wherever it acts or is the object) takes the configured id. */
function renameApplication(event: CaliperEvent, from: string, to: string): void {
  forEachEntity(event, holdsEntities12, (entity: Entity) => {
    if (entity.type === 'SoftwareApplication' && entity.id === from) entity.id = to;
  });
}

/** The caliper-1.2 event for an event in Instructure's format (already pruned) and its raw event. */
export function toCaliper12(event: CaliperEvent, raw: RawEvent, options: Caliper12Options = {}): CaliperEvent {
  const bodyEntityId = event.object.id;
  event['@context'] = CALIPER_12_CONTEXT;
  EVENT_RULES_11[raw.metadata.event_name]?.(event, raw);
  genericWhenActorRefused(event, (type, action) => EVENT_TYPE_RULES_12[type]?.byAction?.[action]?.actor ?? EVENT_TYPE_RULES_12[type]?.actor ?? ['Agent'], isA12);
  EVENT_RULES_12[raw.metadata.event_name]?.(event, raw);
  applyEntityRules(event, raw, bodyEntityId, VOCABULARY_12);
  if (options.navigation === 'view') viewed(event);
  eventType12(event);
  if ((event.type as string) === 'ResourceManagementEvent') event.action = (ACTIONS_12[raw.metadata.event_name]?.[event.action] ?? event.action) as CaliperEvent['action'];
  if (options.edAppId) renameApplication(event, edApp(raw.metadata).id, options.edAppId);
  const sessionTime = event.type === 'SessionEvent' ? SESSION_TIMES_12[event.action] : undefined;
  if (options.session === 'auto-attach' && sessionTime && isEntity(event.session)) {
    event.session[sessionTime] = event.eventTime;
  } else if (options.session === 'auto-attach') {
    // The Canvas session the platform cannot know stays in the event's extensions.
    if (isEntity(event.session) && raw.metadata.session_id) setData(canvasExtensionsOf(event as unknown as Entity), 'session_id', raw.metadata.session_id);
    event.session = AUTO_ATTACH_SESSION;
  }
  return ordered(event);
}
