// The Caliper 1.1 vocabulary this project emits and checks (IMS Caliper Analytics 1.1, Appendix A–E;
// see ../shared/reference/notes/caliper-1.1-spec.md §3–§5 for the tables these are copied from).

import { table } from '../table.js';

export const CALIPER_CONTEXT = 'http://purl.imsglobal.org/ctx/caliper/v1p1';

export const EVENT_TYPES = [
  'Event',
  'AnnotationEvent',
  'AssessmentEvent',
  'AssessmentItemEvent',
  'AssignableEvent',
  'ForumEvent',
  'GradeEvent',
  'MediaEvent',
  'MessageEvent',
  'NavigationEvent',
  'SessionEvent',
  'ThreadEvent',
  'ToolUseEvent',
  'ViewEvent',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const ACTIONS = [
  'Abandoned', 'Activated', 'Added', 'Attached', 'Bookmarked', 'ChangedResolution', 'ChangedSize',
  'ChangedSpeed', 'ChangedVolume', 'Classified', 'ClosedPopout', 'Commented', 'Completed', 'Created',
  'Deactivated', 'Deleted', 'Described', 'DisabledClosedCaptioning', 'Disliked', 'EnabledClosedCaptioning',
  'Ended', 'EnteredFullScreen', 'ExitedFullScreen', 'ForwardedTo', 'Graded', 'Hid', 'Highlighted',
  'Identified', 'JumpedTo', 'Launched', 'Liked', 'Linked', 'LoggedIn', 'LoggedOut', 'MarkedAsRead',
  'MarkedAsUnread', 'Modified', 'Muted', 'NavigatedTo', 'OpenedPopout', 'Paused', 'Posted', 'Questioned',
  'Ranked', 'Recommended', 'Removed', 'Reset', 'Restarted', 'Resumed', 'Retrieved', 'Reviewed', 'Rewound',
  'Saved', 'Searched', 'Shared', 'Showed', 'Skipped', 'Started', 'Submitted', 'Subscribed', 'Tagged',
  'TimedOut', 'Unmuted', 'Unsubscribed', 'Used', 'Viewed',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Entity type → its supertypes (itself included), so "object must be a DigitalResource" can be checked. */
const PARENT: Record<string, string | string[]> = table({
  Entity: [],
  Agent: 'Entity',
  Person: 'Agent',
  SoftwareApplication: 'Agent',
  Organization: 'Agent',
  CourseOffering: 'Organization',
  CourseSection: 'CourseOffering',
  Group: 'Organization',
  Membership: 'Entity',
  Session: 'Entity',
  LtiSession: 'Session',
  DigitalResource: 'Entity',
  AssignableDigitalResource: 'DigitalResource',
  DigitalResourceCollection: 'DigitalResource',
  Assessment: ['AssignableDigitalResource', 'DigitalResourceCollection'],
  AssessmentItem: 'AssignableDigitalResource',
  Forum: 'DigitalResourceCollection',
  Thread: 'DigitalResourceCollection',
  Message: 'DigitalResource',
  Document: 'DigitalResource',
  Page: 'DigitalResource',
  WebPage: 'DigitalResource',
  Chapter: 'DigitalResource',
  Frame: 'DigitalResource',
  MediaObject: 'DigitalResource',
  AudioObject: 'MediaObject',
  ImageObject: 'MediaObject',
  VideoObject: 'MediaObject',
  MediaLocation: 'DigitalResource',
  Attempt: 'Entity',
  Score: 'Entity',
  Result: 'Entity',
  Response: 'Entity',
  FillinBlankResponse: 'Response',
  MultipleChoiceResponse: 'Response',
  MultipleResponseResponse: 'Response',
  SelectTextResponse: 'Response',
  TrueFalseResponse: 'Response',
  LearningObjective: 'Entity',
  Annotation: 'Entity',
  BookmarkAnnotation: 'Annotation',
  HighlightAnnotation: 'Annotation',
  SharedAnnotation: 'Annotation',
  TagAnnotation: 'Annotation',
});
export const ENTITY_TYPES = Object.keys(PARENT);

function ancestry(type: string): Set<string> {
  const out = new Set<string>([type]);
  const parents = PARENT[type];
  for (const p of typeof parents === 'string' ? [parents] : (parents ?? [])) for (const a of ancestry(p)) out.add(a);
  return out;
}
const ANCESTRY = new Map(ENTITY_TYPES.map((t) => [t, ancestry(t)]));
/** Is `type` the entity type `required` or one of its subtypes? */
export const isA = (type: string, required: string): boolean => ANCESTRY.get(type)?.has(required) ?? false;
/** The types whose supertypes are listed in `PARENT`, each with its supertypes (itself included). */
export const ancestorsOf = (type: string): ReadonlySet<string> => ANCESTRY.get(type) ?? new Set();

/** Entity properties beyond Entity's own (S11 Appendix C), by the type that introduces them. */
const OWN_PROPERTIES: Record<string, string[]> = table({
  Entity: ['id', 'type', 'name', 'description', 'dateCreated', 'dateModified', 'extensions'],
  SoftwareApplication: ['version'],
  Organization: ['subOrganizationOf', 'members'],
  CourseOffering: ['courseNumber', 'academicSession'],
  CourseSection: ['category'],
  Membership: ['organization', 'member', 'roles', 'status'],
  Session: ['user', 'startedAtTime', 'endedAtTime', 'duration'],
  LtiSession: ['messageParameters'],
  DigitalResource: ['creators', 'mediaType', 'keywords', 'learningObjectives', 'isPartOf', 'datePublished', 'version'],
  AssignableDigitalResource: ['dateToActivate', 'dateToShow', 'dateToStartOn', 'dateToSubmit', 'maxAttempts', 'maxSubmits', 'maxScore'],
  DigitalResourceCollection: ['items'],
  AssessmentItem: ['isTimeDependent'],
  Message: ['replyTo', 'body', 'attachments'],
  Frame: ['index'],
  MediaObject: ['duration'],
  AudioObject: ['volumeLevel', 'volumeMin', 'volumeMax', 'muted'],
  MediaLocation: ['currentTime'],
  Attempt: ['assignee', 'assignable', 'isPartOf', 'count', 'startedAtTime', 'endedAtTime', 'duration'],
  Score: ['attempt', 'maxScore', 'scoreGiven', 'scoredBy', 'comment'],
  Result: ['attempt', 'maxResultScore', 'resultScore', 'scoredBy', 'comment'],
  Response: ['attempt', 'startedAtTime', 'endedAtTime', 'duration'],
  FillinBlankResponse: ['values'],
  MultipleChoiceResponse: ['value'],
  MultipleResponseResponse: ['values'],
  SelectTextResponse: ['values'],
  TrueFalseResponse: ['value'],
  Annotation: ['annotator', 'annotated'],
  BookmarkAnnotation: ['bookmarkNotes'],
  HighlightAnnotation: ['selection', 'selectionText'],
  SharedAnnotation: ['withAgents'],
  TagAnnotation: ['tags'],
});

/** The value each Caliper 1.1 entity property takes (S11 Appendix C; CTX11's coercions for numbers). */
export type PropertyKind =
  | 'string' | 'strings' | 'integer' | 'nonNegativeInteger' | 'decimal' | 'boolean' | 'dateTime' | 'duration'
  | 'entity' | 'entities' | 'roles' | 'status' | 'object' | 'selector' | 'iri' | 'type' | 'extensions';
export const PROPERTY_KINDS: Record<string, PropertyKind> = table({
  id: 'iri', type: 'type', name: 'string', description: 'string', extensions: 'extensions',
  dateCreated: 'dateTime', dateModified: 'dateTime', datePublished: 'dateTime', dateToActivate: 'dateTime', dateToShow: 'dateTime',
  dateToStartOn: 'dateTime', dateToSubmit: 'dateTime', startedAtTime: 'dateTime', endedAtTime: 'dateTime',
  version: 'string', courseNumber: 'string', academicSession: 'string', category: 'string', mediaType: 'string', body: 'string',
  comment: 'string', bookmarkNotes: 'string', selectionText: 'string', value: 'string', volumeLevel: 'string', volumeMin: 'string', volumeMax: 'string',
  keywords: 'strings', tags: 'strings', values: 'strings',
  count: 'integer', index: 'integer', maxAttempts: 'nonNegativeInteger', maxSubmits: 'nonNegativeInteger',
  maxScore: 'decimal', scoreGiven: 'decimal', maxResultScore: 'decimal', resultScore: 'decimal',
  isTimeDependent: 'boolean', muted: 'boolean', duration: 'duration', currentTime: 'duration',
  subOrganizationOf: 'entity', organization: 'entity', member: 'entity', user: 'entity', isPartOf: 'entity', replyTo: 'entity',
  assignee: 'entity', assignable: 'entity', attempt: 'entity', scoredBy: 'entity', annotator: 'entity', annotated: 'entity',
  members: 'entities', creators: 'entities', learningObjectives: 'entities', items: 'entities', attachments: 'entities', withAgents: 'entities',
  roles: 'roles', status: 'status', messageParameters: 'object', selection: 'selector',
});

/** The LIS membership roles (S11 Appendix E): context roles and `Context#Sub` sub-roles, as the spec and IMS's 1.1 JSON Schema list them. */
export const LIS_ROLE_TERMS: ReadonlySet<string> = new Set([
  'Administrator', 'ContentDeveloper', 'Instructor', 'Learner', 'Manager', 'Member', 'Mentor', 'Officer',
  ...['Administrator', 'Developer', 'ExternalDeveloper', 'ExternalSupport', 'ExternalSystemAdministrator', 'Support', 'SystemAdministrator'].map((r) => `Administrator#${r}`),
  ...['ContentDeveloper', 'ContentExpert', 'ExternalContentExpert', 'Librarian'].map((r) => `ContentDeveloper#${r}`),
  ...['ExternalInstructor', 'Grader', 'GuestInstructor', 'Instructor', 'Lecturer', 'PrimaryInstructor', 'SecondaryInstructor', 'TeachingAssistant', 'TeachingAssistantGroup', 'TeachingAssistantOffering', 'TeachingAssistantSection', 'TeachingAssistantTemplate'].map((r) => `Instructor#${r}`),
  ...['ExternalLearner', 'GuestLearner', 'Learner', 'NonCreditLearner'].map((r) => `Learner#${r}`),
  ...['AreaManager', 'CourseCoordinator', 'ExternalObserver', 'Manager', 'Observer'].map((r) => `Manager#${r}`),
  'Member#Member',
  ...['Advisor', 'Auditor', 'ExternalAdvisor', 'ExternalAuditor', 'ExternalLearningFacilitator', 'ExternalMentor', 'ExternalReviewer', 'ExternalTutor', 'LearningFacilitator', 'Mentor', 'Reviewer', 'Tutor'].map((r) => `Mentor#${r}`),
  ...['Chair', 'Secretary', 'Treasurer', 'Vice-Chair'].map((r) => `Officer#${r}`),
]);

/**
 * The roles IMS's reference implementation knows (caliper-python, `CALIPER_ROLES` in
 * caliper/constants.py, the same list in its 1.1 and 1.2 lines): it refuses a Membership with any
 * other. It lists a TeachingAssistant context role (IMS's 1.1 schema does not) and lacks the
 * Instructor#TeachingAssistant*, Instructor#Grader and Officer roles (the schemas have them), so a role
 * we emit must be in both lists.
 */
export const REFERENCE_ROLES: ReadonlySet<string> = new Set([
  'Learner', 'Learner#ExternalLearner', 'Learner#GuestLearner', 'Learner#Instructor', 'Learner#Learner', 'Learner#NonCreditLearner',
  'Instructor', 'Instructor#ExternalInstructor', 'Instructor#GuestInstructor', 'Instructor#Lecturer', 'Instructor#PrimaryInstructor',
  'Administrator', 'Administrator#Administrator', 'Administrator#Developer', 'Administrator#Support', 'Administrator#SystemAdministrator',
  'Administrator#ExternalSupport', 'Administrator#ExternalDeveloper', 'Administrator#ExternalSystemAdministrator',
  'ContentDeveloper', 'ContentDeveloper#ContentDeveloper', 'ContentDeveloper#Librarian', 'ContentDeveloper#ContentExpert', 'ContentDeveloper#ExternalContentExpert',
  'Manager', 'Manager#AreaManager', 'Manager#CourseCoordinator', 'Manager#Observer', 'Manager#ExternalObserver',
  'Member', 'Member#Member',
  'Mentor', 'Mentor#Mentor', 'Mentor#Advisor', 'Mentor#Auditor', 'Mentor#Reviewer', 'Mentor#Tutor', 'Mentor#LearningFacilitator', 'Mentor#ExternalMentor',
  'Mentor#ExternalAdvisor', 'Mentor#ExternalAuditor', 'Mentor#ExternalReviewer', 'Mentor#ExternalTutor',
  'TeachingAssistant', 'TeachingAssistant#TeachingAssistant', 'TeachingAssistant#Grader', 'TeachingAssistant#TeachingAssistantSection',
  'TeachingAssistant#TeachingAssistantSectionAssociation', 'TeachingAssistant#TeachingAssistantOffering', 'TeachingAssistant#TeachingAssistantTemplate',
  'TeachingAssistant#TeachingAssistantGroup',
]);
/** Caliper 1.1 membership roles: the LIS roles that IMS's reference implementation for 1.1 accepts too. */
export const ROLE_TERMS: ReadonlySet<string> = new Set([...LIS_ROLE_TERMS].filter((r) => REFERENCE_ROLES.has(r)));

/**
 * Properties an entity of a type (or of a subtype) must have, which IMS's reference implementation
 * requires (caliper-python, `req=True` in caliper/entities.py; the JSON Schemas do not): a Score or
 * Result is of an Attempt, a Membership is of a member in an organization, a Frame has its index, an
 * Annotation its annotator and what it annotates.
 */
const REQUIRED_OWN: Record<string, readonly string[]> = table({
  Membership: ['member', 'organization'],
  Score: ['attempt'],
  Result: ['attempt'],
  Response: ['attempt'],
  Frame: ['index'],
  Annotation: ['annotator', 'annotated'],
});

export interface EventRule {
  actions: readonly Action[];
  actor: readonly string[];
  object: readonly string[];
  generated?: readonly string[];
  target?: readonly string[];
  referrer?: readonly string[];
  /** Narrower entity types for one action (SessionEvent: who logs in and out of what, what times out). */
  byAction?: Readonly<Record<string, Partial<Pick<EventRule, 'actor' | 'object' | 'generated' | 'target'>>>>;
}

/** Caliper 1.1 event subtypes: allowed actions and entity types (S11 Appendix B, deprecated actions left out). */
export const SPEC_RULES: Record<EventType, EventRule> = {
  Event: { actions: ACTIONS, actor: ['Agent'], object: ['Entity'] },
  AnnotationEvent: { actions: ['Bookmarked', 'Highlighted', 'Shared', 'Tagged'], actor: ['Person'], object: ['DigitalResource'], generated: ['Annotation'], target: ['Frame'] },
  AssessmentEvent: { actions: ['Started', 'Paused', 'Resumed', 'Restarted', 'Reset', 'Submitted'], actor: ['Person'], object: ['Assessment'], generated: ['Attempt'] },
  AssessmentItemEvent: { actions: ['Started', 'Skipped', 'Completed'], actor: ['Person'], object: ['AssessmentItem'], generated: ['Response', 'Attempt'], referrer: ['AssessmentItem'] },
  AssignableEvent: { actions: ['Activated', 'Deactivated', 'Started', 'Completed', 'Submitted', 'Reviewed'], actor: ['Person'], object: ['AssignableDigitalResource'], generated: ['Attempt'], target: ['Frame'] },
  ForumEvent: { actions: ['Subscribed', 'Unsubscribed'], actor: ['Person'], object: ['Forum'] },
  GradeEvent: { actions: ['Graded'], actor: ['Agent'], object: ['Attempt'], generated: ['Score'], target: [] },
  MediaEvent: {
    actions: ['Started', 'Ended', 'Paused', 'Resumed', 'Restarted', 'ForwardedTo', 'JumpedTo', 'ChangedResolution', 'ChangedSize', 'ChangedSpeed', 'ChangedVolume', 'EnabledClosedCaptioning', 'DisabledClosedCaptioning', 'EnteredFullScreen', 'ExitedFullScreen', 'Muted', 'Unmuted', 'OpenedPopout', 'ClosedPopout'],
    actor: ['Person'], object: ['MediaObject'], target: ['MediaLocation'],
  },
  MessageEvent: { actions: ['MarkedAsRead', 'MarkedAsUnread', 'Posted'], actor: ['Person'], object: ['Message'] },
  // IMS's reference implementation for 1.1 takes only a DigitalResource as object (its SoftwareApplication is an Agent).
  NavigationEvent: { actions: ['NavigatedTo'], actor: ['Person'], object: ['DigitalResource'], target: ['Frame'], referrer: ['DigitalResource', 'SoftwareApplication'] },
  SessionEvent: {
    actions: ['LoggedIn', 'LoggedOut', 'TimedOut'], actor: ['Person', 'SoftwareApplication'], object: ['Session', 'SoftwareApplication'], target: ['DigitalResource'], referrer: ['DigitalResource', 'SoftwareApplication'],
    // As IMS's reference implementation checks them (caliper-python caliper/events.py SessionEvent).
    byAction: {
      LoggedIn: { actor: ['Person'], object: ['SoftwareApplication'], generated: ['Session'] },
      LoggedOut: { actor: ['Person'], object: ['SoftwareApplication'], target: ['Session'] },
      TimedOut: { actor: ['SoftwareApplication'], object: ['Session'] },
    },
  },
  ThreadEvent: { actions: ['MarkedAsRead', 'MarkedAsUnread'], actor: ['Person'], object: ['Thread'] },
  ToolUseEvent: { actions: ['Used'], actor: ['Person'], object: ['SoftwareApplication'], target: ['SoftwareApplication'] },
  ViewEvent: { actions: ['Viewed'], actor: ['Person'], object: ['DigitalResource'], target: ['Frame'] },
};

/** The actor types an event type takes for an action, by the spec (its narrower rule for the action, when it has one). */
export const specActors = (type: EventType, action: string): readonly string[] => SPEC_RULES[type].byAction?.[action]?.actor ?? SPEC_RULES[type].actor;

/**
 * Where Instructure's documented Caliper output departs from the 1.1 spec. We match Instructure, and
 * the validator accepts exactly these and nothing else. Each is listed, with its source, in
 * docs/caliper-departures.md.
 */
export const INSTRUCTURE_DEPARTURES = {
  /** discussion_topic_created: ThreadEvent with action Created. */
  eventActions: { ThreadEvent: ['Created'] } as Partial<Record<EventType, Action[]>>,
  /** quiz_submitted, submission_created: the submission (an Attempt) is the object; asset_accessed: generic Entity objects. */
  eventObjects: { AssessmentEvent: ['Attempt'], AssignableEvent: ['Attempt'], NavigationEvent: ['Entity'] } as Partial<Record<EventType, string[]>>,
  /**
   * asset_accessed by an unidentified visitor (public file, calendar feed): the application is the actor.
   * A Canvas job's event (course copy, auto-grading) keeps the type Instructure emits for its event
   * name, with the application as actor (departure 11): discussion_entry_created, discussion_topic_created,
   * quiz_submitted, submission_created, logged_in, logged_out.
   */
  eventActors: {
    NavigationEvent: ['SoftwareApplication'],
    MessageEvent: ['SoftwareApplication'],
    ThreadEvent: ['SoftwareApplication'],
    AssessmentEvent: ['SoftwareApplication'],
    AssignableEvent: ['SoftwareApplication'],
    SessionEvent: ['SoftwareApplication'],
  } as Partial<Record<EventType, string[]>>,
  /** Properties Instructure puts on entity types that do not define them. */
  entityProperties: {
    Attempt: ['body'], // submission_created
    Document: ['body'], // syllabus_updated
    Entity: ['startedAtTime', 'dateToShow', 'dateToSubmit'], // enrollment_state_*, assignment_override_*
    Group: ['isPartOf'], // group_created, group_membership_created
  } as Record<string, string[]>,
};

/** Every property allowed on an entity of `type`: its own and its supertypes', plus (with departures) Instructure's for exactly that type. */
function allowedTable(withDepartures: boolean): Map<string, Set<string>> {
  return new Map(
    ENTITY_TYPES.map((type) => {
      const out = new Set<string>();
      for (const t of ANCESTRY.get(type) ?? []) for (const p of OWN_PROPERTIES[t] ?? []) out.add(p);
      if (withDepartures) for (const p of INSTRUCTURE_DEPARTURES.entityProperties[type] ?? []) out.add(p);
      return [type, out] as const;
    }),
  );
}
const ALLOWED = { instructure: allowedTable(true), spec: allowedTable(false) };
const NONE: ReadonlySet<string> = new Set();
const REQUIRED = new Map(ENTITY_TYPES.map((type) => [type, [...ancestorsOf(type)].flatMap((t) => REQUIRED_OWN[t] ?? [])]));
/** The properties an entity of `type` must have (its own type's and its supertypes' requirements). */
export const requiredProperties = (type: string): readonly string[] => REQUIRED.get(type) ?? [];

/** `departures`: whether Instructure's documented departures are allowed (its 32 event types) or not (ours, and strict Caliper). */
export const allowedProperties = (type: string, departures = true): ReadonlySet<string> =>
  (departures ? ALLOWED.instructure : ALLOWED.spec).get(type) ?? NONE;

export interface Entity {
  id: string;
  type: string;
  [property: string]: unknown;
}

export interface CaliperEvent {
  '@context': string;
  id: string;
  type: EventType;
  actor: Entity;
  action: Action;
  object: Entity;
  eventTime: string;
  [property: string]: unknown;
}

export interface Envelope {
  sensor: string;
  sendTime: string;
  dataVersion: string;
  data: [CaliperEvent];
}

/** A validator's verdict (validate.ts for 1.1 and the formats, validate12.ts for 1.2): here, so that neither imports the other for it. */
export type ValidationResult = { ok: true } | { ok: false; error: string };
