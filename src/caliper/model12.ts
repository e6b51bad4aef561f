// The IMS Caliper 1.2 vocabulary (Caliper Analytics Specification 1.2, IMS Final Release 2020-03-27;
// its definitions in ../shared/reference/caliper-1.2-spec/fragments/: events/, entities/, profiles/,
// actions/, roles/, statuses/, usemetrics/, identifiers/, ltimessagetypes/), as tables: event types
// with their actions and entity types per role, the profiles, entity types with their supertypes and
// the properties each introduces with the value each takes. validate12.ts checks against these.
import { table } from '../table.js';
import { LIS_ROLE_TERMS, type EventRule } from './model.js';

export const CALIPER_12_CONTEXT = 'http://purl.imsglobal.org/ctx/caliper/v1p2';

export const ACTIONS_12 = [
  'Abandoned', 'Accepted', 'Activated', 'Added', 'Archived', 'Attached', 'Bookmarked', 'ChangedResolution', 'ChangedSize',
  'ChangedSpeed', 'ChangedVolume', 'Classified', 'ClosedPopout', 'Commented', 'Completed', 'Copied', 'Created', 'Deactivated',
  'Declined', 'Deleted', 'Described', 'DisabledClosedCaptioning', 'Disliked', 'Downloaded', 'EnabledClosedCaptioning', 'Ended',
  'EnteredFullScreen', 'ExitedFullScreen', 'ForwardedTo', 'Graded', 'Hid', 'Highlighted', 'Identified', 'JumpedTo', 'Launched',
  'Liked', 'Linked', 'LoggedIn', 'LoggedOut', 'MarkedAsRead', 'MarkedAsUnread', 'Modified', 'Muted', 'NavigatedTo', 'OpenedPopout',
  'OptedIn', 'OptedOut', 'Paused', 'Posted', 'Printed', 'Published', 'Questioned', 'Ranked', 'Recommended', 'Removed', 'Reset',
  'Restarted', 'Restored', 'Resumed', 'Retrieved', 'Returned', 'Reviewed', 'Rewound', 'Saved', 'Searched', 'Sent', 'Shared',
  'Showed', 'Skipped', 'Started', 'Submitted', 'Subscribed', 'Tagged', 'TimedOut', 'Unmuted', 'Unpublished', 'Unsubscribed',
  'Uploaded', 'Used', 'Viewed',
] as const;
export type Action12 = (typeof ACTIONS_12)[number];

export const PROFILES_12 = [
  'AnnotationProfile', 'AssessmentProfile', 'AssignableProfile', 'FeedbackProfile', 'ForumProfile', 'GeneralProfile', 'GradingProfile',
  'MediaProfile', 'ReadingProfile', 'ResourceManagementProfile', 'SearchProfile', 'SessionProfile', 'SurveyProfile', 'ToolLaunchProfile',
  'ToolUseProfile',
] as const;
export type Profile12 = (typeof PROFILES_12)[number];

/** An event type's rule: its actions, and the entity types each role takes (absent: any Entity; []: none). */
export interface EventRule12 extends Omit<EventRule, 'actions' | 'byAction'> {
  /** 1.2's actions (its own list, wider than 1.1's). */
  actions: readonly string[];
  /** Rules that hold for one action only (SessionEvent TimedOut: the application times out a Session). */
  byAction?: Readonly<Record<string, Partial<Omit<EventRule12, 'actions' | 'byAction'>> & { required?: readonly string[] }>>;
  /** The profiles whose tables list this event type (fragments/profiles/). */
  profiles: readonly Profile12[];
}

const MEDIA_ACTIONS = [
  'Started', 'Ended', 'Paused', 'Resumed', 'Restarted', 'ForwardedTo', 'JumpedTo', 'ChangedResolution', 'ChangedSize', 'ChangedSpeed',
  'ChangedVolume', 'EnabledClosedCaptioning', 'DisabledClosedCaptioning', 'EnteredFullScreen', 'ExitedFullScreen', 'Muted', 'Unmuted',
  'OpenedPopout', 'ClosedPopout',
];

/** Caliper 1.2 event types (fragments/events/*.html, with the per-action rows of fragments/profiles/*.html). */
export const EVENT_RULES_12: Readonly<Record<string, EventRule12>> = table<EventRule12>({
  Event: { actions: ACTIONS_12, actor: ['Agent'], object: ['Entity'], profiles: ['GeneralProfile'] },
  AnnotationEvent: { actions: ['Bookmarked', 'Highlighted', 'Shared', 'Tagged'], actor: ['Person'], object: ['DigitalResource'], generated: ['Annotation'], target: ['Frame'], profiles: ['AnnotationProfile'] },
  AssessmentEvent: { actions: ['Started', 'Paused', 'Resumed', 'Restarted', 'Reset', 'Submitted'], actor: ['Person'], object: ['Assessment'], generated: ['Attempt'], profiles: ['AssessmentProfile'] },
  AssessmentItemEvent: { actions: ['Started', 'Skipped', 'Completed'], actor: ['Person'], object: ['AssessmentItem'], generated: ['Response', 'Attempt'], referrer: ['AssessmentItem'], profiles: ['AssessmentProfile'] },
  AssignableEvent: { actions: ['Activated', 'Deactivated', 'Started', 'Completed', 'Submitted', 'Reviewed'], actor: ['Person'], object: ['AssignableDigitalResource'], generated: ['Attempt'], target: ['Frame'], profiles: ['AssignableProfile'] },
  FeedbackEvent: { actions: ['Commented', 'Ranked'], actor: ['Person'], object: ['Entity'], generated: ['Rating', 'Comment'], target: ['Frame'], profiles: ['FeedbackProfile'] },
  ForumEvent: { actions: ['Subscribed', 'Unsubscribed'], actor: ['Person'], object: ['Forum'], profiles: ['ForumProfile'] },
  GradeEvent: { actions: ['Graded'], actor: ['Agent'], object: ['Attempt'], generated: ['Score'], profiles: ['GradingProfile'] },
  MediaEvent: { actions: MEDIA_ACTIONS, actor: ['Person'], object: ['MediaObject'], target: ['MediaLocation'], profiles: ['MediaProfile'] },
  MessageEvent: { actions: ['MarkedAsRead', 'MarkedAsUnread', 'Posted'], actor: ['Person'], object: ['Message'], profiles: ['ForumProfile'] },
  NavigationEvent: {
    actions: ['NavigatedTo'], actor: ['Person'], object: ['DigitalResource', 'SoftwareApplication'], target: ['DigitalResource'], referrer: ['DigitalResource', 'SoftwareApplication'],
    profiles: ['ReadingProfile', 'AssessmentProfile', 'AssignableProfile', 'ForumProfile', 'SurveyProfile'],
  },
  QuestionnaireEvent: { actions: ['Started', 'Submitted'], actor: ['Person'], object: ['Questionnaire'], generated: ['Attempt'], profiles: ['SurveyProfile'] },
  QuestionnaireItemEvent: { actions: ['Started', 'Skipped', 'Completed'], actor: ['Person'], object: ['QuestionnaireItem'], generated: ['Response', 'Attempt'], profiles: ['SurveyProfile'] },
  ResourceManagementEvent: {
    actions: ['Archived', 'Copied', 'Created', 'Deleted', 'Described', 'Downloaded', 'Modified', 'Printed', 'Published', 'Restored', 'Retrieved', 'Saved', 'Unpublished', 'Uploaded'],
    actor: ['Person'], object: ['DigitalResource'], generated: ['DigitalResource'], byAction: { Copied: { required: ['generated'] } }, profiles: ['ResourceManagementProfile'],
  },
  SearchEvent: { actions: ['Searched'], actor: ['Person'], object: ['Entity'], generated: ['SearchResponse'], profiles: ['SearchProfile'] },
  SessionEvent: {
    actions: ['LoggedIn', 'LoggedOut', 'TimedOut'], actor: ['Person', 'SoftwareApplication'], object: ['Session', 'SoftwareApplication'], target: ['DigitalResource'], referrer: ['DigitalResource', 'SoftwareApplication'],
    // The actor by action as IMS's reference implementation checks it (caliper-python caliper/events.py SessionEvent).
    byAction: {
      LoggedIn: { actor: ['Person'], object: ['SoftwareApplication'] },
      LoggedOut: { actor: ['Person'], object: ['SoftwareApplication'] },
      TimedOut: { actor: ['SoftwareApplication'], object: ['Session'] },
    },
    profiles: ['SessionProfile'],
  },
  SurveyEvent: { actions: ['OptedIn', 'OptedOut'], actor: ['Person'], object: ['Survey'], profiles: ['SurveyProfile'] },
  SurveyInvitationEvent: { actions: ['Accepted', 'Declined', 'Sent'], actor: ['Person'], object: ['SurveyInvitation'], profiles: ['SurveyProfile'] },
  ThreadEvent: { actions: ['MarkedAsRead', 'MarkedAsUnread'], actor: ['Person'], object: ['Thread'], profiles: ['ForumProfile'] },
  ToolLaunchEvent: {
    actions: ['Launched', 'Returned'], actor: ['Person'], object: ['SoftwareApplication'], generated: ['DigitalResource'], target: ['Link', 'LtiLink'],
    byAction: { Launched: { required: ['federatedSession'] } }, profiles: ['ToolLaunchProfile'],
  },
  ToolUseEvent: { actions: ['Used'], actor: ['Person'], object: ['SoftwareApplication'], target: ['SoftwareApplication'], generated: ['AggregateMeasureCollection'], profiles: ['ToolUseProfile'] },
  ViewEvent: { actions: ['Viewed'], actor: ['Person'], object: ['DigitalResource', 'Result'], target: ['DigitalResource'], profiles: ['ReadingProfile', 'AssessmentProfile', 'AssignableProfile', 'ForumProfile', 'GradingProfile', 'SurveyProfile'] },
});
export const EVENT_TYPES_12 = Object.keys(EVENT_RULES_12);

/** The value a 1.2 property takes. `entity`/`entities`: an entity of one of `types` (or its IRI). */
export type Kind12 =
  | 'string' | 'strings' | 'integer' | 'nonNegativeInteger' | 'decimal' | 'boolean' | 'dateTime' | 'duration' | 'iri' | 'object'
  | 'roles' | 'status' | 'selector' | 'identifiers'
  | { entity: readonly string[] }
  | { entities: readonly string[] }
  | { term: readonly string[] };

const entity = (...types: string[]): Kind12 => ({ entity: types });
const entities = (...types: string[]): Kind12 => ({ entities: types });

export const METRICS_12 = ['AssessmentsPassed', 'AssessmentsSubmitted', 'MinutesOnTask', 'SkillsMastered', 'StandardsMastered', 'UnitsCompleted', 'UnitsPassed', 'WordsRead'];
/** System identifier types (fragments/identifiers/), and CaseItemUri, which IMS's term fixture (caliperEnvelopeTermSystemIdentifierType) lists too. */
export const IDENTIFIER_TYPES_12 = [
  'AccountUserName', 'CaseItemUri', 'EmailAddress', 'LisSourcedId', 'LtiContextId', 'LtiDeploymentId', 'LtiPlatformId', 'LtiToolId', 'LtiUserId',
  'OneRosterSourcedId', 'Other', 'SisSourcedId', 'SystemId',
];
export const LTI_MESSAGE_TYPES_12 = ['LtiResourceLinkRequest', 'LtiDeepLinkingRequest', 'LtiDeepLinkingResponse'];
/** Membership roles (fragments/roles/): 1.1's terms less Mentor#Auditor, which 1.2 no longer lists. */
export const ROLE_TERMS_12: ReadonlySet<string> = new Set([...LIS_ROLE_TERMS].filter((r) => r !== 'Mentor#Auditor'));

interface EntityType12 {
  /** Direct supertypes. */
  parents: readonly string[];
  /** The properties this type introduces, or narrows (a subtype's `items`). */
  props: Readonly<Record<string, Kind12>>;
}

/** Caliper 1.2 entity types (fragments/entities/*.html). */
const ENTITY_TYPES_TABLE: Readonly<Record<string, EntityType12>> = table<EntityType12>({
  Entity: {
    parents: [],
    props: { id: 'iri', type: 'string', name: 'string', description: 'string', dateCreated: 'dateTime', dateModified: 'dateTime', otherIdentifiers: 'identifiers', extensions: 'object' },
  },
  Agent: { parents: ['Entity'], props: {} },
  Person: { parents: ['Agent'], props: {} },
  SoftwareApplication: { parents: ['Agent'], props: { host: 'string', ipAddress: 'string', userAgent: 'string', version: 'string' } },
  Organization: { parents: ['Agent'], props: { subOrganizationOf: entity('Organization'), members: entities('Agent') } },
  CourseOffering: { parents: ['Organization'], props: { courseNumber: 'string', academicSession: 'string' } },
  CourseSection: { parents: ['CourseOffering'], props: { category: 'string' } },
  Group: { parents: ['Organization'], props: {} },
  Membership: { parents: ['Entity'], props: { organization: entity('Organization'), member: entity('Person'), roles: 'roles', status: 'status' } },
  Session: { parents: ['Entity'], props: { user: entity('Person'), client: entity('SoftwareApplication'), startedAtTime: 'dateTime', endedAtTime: 'dateTime', duration: 'duration' } },
  LtiSession: { parents: ['Session'], props: { messageParameters: 'object' } },
  Collection: { parents: ['Entity'], props: { items: entities('Entity') } },
  DigitalResource: {
    parents: ['Entity'],
    props: {
      storageName: 'string', creators: entities('Agent'), mediaType: 'string', keywords: 'strings', learningObjectives: entities('LearningObjective'),
      isPartOf: entity('Entity'), datePublished: 'dateTime', version: 'string',
    },
  },
  DigitalResourceCollection: { parents: ['Collection', 'DigitalResource'], props: { items: entities('DigitalResource') } },
  AssignableDigitalResource: {
    parents: ['DigitalResource'],
    props: {
      dateToActivate: 'dateTime', dateToShow: 'dateTime', dateToStartOn: 'dateTime', dateToSubmit: 'dateTime',
      maxAttempts: 'nonNegativeInteger', maxSubmits: 'nonNegativeInteger', maxScore: 'decimal',
    },
  },
  Assessment: { parents: ['AssignableDigitalResource', 'DigitalResourceCollection'], props: { items: entities('AssessmentItem') } },
  AssessmentItem: { parents: ['AssignableDigitalResource'], props: { isTimeDependent: 'boolean' } },
  Forum: { parents: ['DigitalResourceCollection'], props: { items: entities('Thread') } },
  Thread: { parents: ['DigitalResourceCollection'], props: { items: entities('Message') } },
  Questionnaire: { parents: ['DigitalResourceCollection'], props: { items: entities('QuestionnaireItem') } },
  Survey: { parents: ['Collection'], props: { items: entities('Questionnaire') } },
  AggregateMeasureCollection: { parents: ['Collection'], props: { items: entities('AggregateMeasure') } },
  Chapter: { parents: ['DigitalResource'], props: {} },
  Document: { parents: ['DigitalResource'], props: {} },
  Page: { parents: ['DigitalResource'], props: {} },
  WebPage: { parents: ['DigitalResource'], props: {} },
  Frame: { parents: ['DigitalResource'], props: { index: 'integer' } },
  Link: { parents: ['Entity'], props: {} },
  LtiLink: { parents: ['DigitalResource'], props: { messageType: { term: LTI_MESSAGE_TYPES_12 } } },
  MediaObject: { parents: ['DigitalResource'], props: { duration: 'duration' } },
  AudioObject: { parents: ['MediaObject'], props: { volumeLevel: 'string', volumeMin: 'string', volumeMax: 'string', muted: 'boolean' } },
  ImageObject: { parents: ['MediaObject'], props: {} },
  VideoObject: { parents: ['MediaObject'], props: {} },
  MediaLocation: { parents: ['DigitalResource'], props: { currentTime: 'duration' } },
  Message: { parents: ['DigitalResource'], props: { replyTo: entity('Message'), body: 'string', attachments: entities('DigitalResource') } },
  Question: { parents: ['DigitalResource'], props: { questionPosed: 'string' } },
  DateTimeQuestion: { parents: ['Question'], props: { minDateTime: 'dateTime', minLabel: 'string', maxDateTime: 'dateTime', maxLabel: 'string' } },
  MultiselectQuestion: { parents: ['Question'], props: { points: 'integer', itemLabels: 'strings', itemValues: 'strings' } },
  OpenEndedQuestion: { parents: ['Question'], props: {} },
  RatingScaleQuestion: { parents: ['Question'], props: { scale: entity('Scale') } },
  QuestionnaireItem: { parents: ['DigitalResource'], props: { question: entity('Question'), categories: 'strings', weight: 'decimal' } },
  SurveyInvitation: { parents: ['DigitalResource'], props: { rater: entity('Person'), survey: entity('Survey'), sentCount: 'integer', dateSent: 'dateTime' } },
  Scale: { parents: ['Entity'], props: {} },
  LikertScale: { parents: ['Scale'], props: { scalePoints: 'integer', itemLabels: 'strings', itemValues: 'strings' } },
  MultiselectScale: {
    parents: ['Scale'],
    props: { scalePoints: 'integer', itemLabels: 'strings', itemValues: 'strings', isOrderedSelection: 'boolean', minSelections: 'integer', maxSelections: 'integer' },
  },
  NumericScale: { parents: ['Scale'], props: { minValue: 'decimal', minLabel: 'string', maxValue: 'decimal', maxLabel: 'string', step: 'decimal' } },
  Rating: { parents: ['Entity'], props: { rater: entity('Person'), rated: entity('Entity'), question: entity('Question'), selections: 'strings', ratingComment: entity('Comment') } },
  Comment: { parents: ['Entity'], props: { commenter: entity('Person'), commentedOn: entity('Entity'), value: 'string' } },
  Attempt: {
    parents: ['Entity'],
    props: { assignee: entity('Person'), assignable: entity('DigitalResource'), isPartOf: entity('Attempt'), count: 'integer', startedAtTime: 'dateTime', endedAtTime: 'dateTime', duration: 'duration' },
  },
  Response: { parents: ['Entity'], props: { attempt: entity('Attempt'), startedAtTime: 'dateTime', endedAtTime: 'dateTime', duration: 'duration' } },
  DateTimeResponse: { parents: ['Response'], props: { dateTimeSelected: 'dateTime' } },
  FillinBlankResponse: { parents: ['Response'], props: { values: 'strings' } },
  MultipleChoiceResponse: { parents: ['Response'], props: { value: 'string' } },
  MultipleResponseResponse: { parents: ['Response'], props: { values: 'strings' } },
  MultiselectResponse: { parents: ['Response'], props: { selections: 'strings' } },
  OpenEndedResponse: { parents: ['Response'], props: { value: 'string' } },
  RatingScaleResponse: { parents: ['Response'], props: { selections: 'strings' } },
  SelectTextResponse: { parents: ['Response'], props: { values: 'strings' } },
  TrueFalseResponse: { parents: ['Response'], props: { value: 'string' } },
  Result: { parents: ['Entity'], props: { attempt: entity('Attempt'), maxResultScore: 'decimal', resultScore: 'decimal', scoredBy: entity('Agent'), comment: 'string' } },
  Score: { parents: ['Entity'], props: { attempt: entity('Attempt'), maxScore: 'decimal', scoreGiven: 'decimal', scoredBy: entity('Agent'), comment: 'string' } },
  LearningObjective: { parents: ['Entity'], props: {} },
  Annotation: { parents: ['Entity'], props: { annotator: entity('Person'), annotated: entity('DigitalResource') } },
  BookmarkAnnotation: { parents: ['Annotation'], props: { bookmarkNotes: 'string' } },
  HighlightAnnotation: { parents: ['Annotation'], props: { selection: 'selector', selectionText: 'string' } },
  SharedAnnotation: { parents: ['Annotation'], props: { withAgents: entities('Agent') } },
  TagAnnotation: { parents: ['Annotation'], props: { tags: 'strings' } },
  AggregateMeasure: {
    parents: ['Entity'],
    props: { metric: { term: METRICS_12 }, metricValue: 'decimal', maxMetricValue: 'decimal', startedAtTime: 'dateTime', endedAtTime: 'dateTime' },
  },
  Query: { parents: ['Entity'], props: { creator: entity('Person'), searchTarget: entity('Entity'), searchTerms: 'string' } },
  SearchResponse: {
    parents: ['Entity'],
    props: { searchProvider: entity('SoftwareApplication'), searchTarget: entity('Entity'), query: entity('Query'), searchResultsItemCount: 'nonNegativeInteger' },
  },
});
export const ENTITY_TYPES_12 = Object.keys(ENTITY_TYPES_TABLE);

/** Properties an entity type requires beyond id and type (fragments: Disposition Required). */
export const REQUIRED_PROPERTIES_12: Readonly<Record<string, readonly string[]>> = table({
  AggregateMeasure: ['metric', 'metricValue'],
  Questionnaire: ['items'],
  // What IMS's reference implementation for 1.2 requires besides (caliper-python, `req=True` in
  // caliper/entities.py): a Score or Result is of an Attempt, a Membership of a member in an
  // organization, a Frame has its index, an Annotation its annotator and what it annotates.
  Membership: ['member', 'organization'],
  Score: ['attempt'],
  Result: ['attempt'],
  Frame: ['index'],
  Annotation: ['annotator', 'annotated'],
});

function ancestry(type: string): string[] {
  const out = [type];
  for (const p of ENTITY_TYPES_TABLE[type]?.parents ?? []) for (const a of ancestry(p)) if (!out.includes(a)) out.push(a);
  return out;
}
const ANCESTRY_12 = new Map(ENTITY_TYPES_12.map((t) => [t, new Set(ancestry(t))]));
/** Is `type` the 1.2 entity type `required` or one of its subtypes? */
export const isA12 = (type: string, required: string): boolean => ANCESTRY_12.get(type)?.has(required) ?? false;
const REQUIRED_12 = new Map(ENTITY_TYPES_12.map((t) => [t, [...(ANCESTRY_12.get(t) ?? [])].flatMap((a) => REQUIRED_PROPERTIES_12[a] ?? [])]));
/** The properties a 1.2 entity of `type` must have (its own type's and its supertypes' requirements). */
export const requiredProperties12 = (type: string): readonly string[] => REQUIRED_12.get(type) ?? [];

/** Every property of an entity type, with the value it takes: the nearest definition wins (a subtype's `items`). */
const PROPERTIES_12 = new Map(
  ENTITY_TYPES_12.map((type) => {
    const out = new Map<string, Kind12>();
    for (const t of ancestry(type)) for (const [p, k] of Object.entries(ENTITY_TYPES_TABLE[t]!.props)) if (!out.has(p)) out.set(p, k);
    return [type, out] as const;
  }),
);
const NONE = new Map<string, Kind12>();
export const properties12 = (type: string): ReadonlyMap<string, Kind12> => PROPERTIES_12.get(type) ?? NONE;
const ALLOWED_12 = new Map([...PROPERTIES_12].map(([t, m]) => [t, new Set(m.keys())] as const));
const NO_PROPERTIES: ReadonlySet<string> = new Set();
export const allowedProperties12 = (type: string): ReadonlySet<string> => ALLOWED_12.get(type) ?? NO_PROPERTIES;

/** Whether a property holds entities in any 1.2 entity type (what a walk over an event's entities enters). */
const ENTITY_PROPERTIES_12 = new Set(
  [...PROPERTIES_12.values()].flatMap((m) => [...m].filter(([, k]) => typeof k === 'object' && ('entity' in k || 'entities' in k)).map(([p]) => p)),
);
export const holdsEntities12 = (property: string): boolean => ENTITY_PROPERTIES_12.has(property);

/** The 1.2 properties written as xsd:decimal (IMS's fixtures write them with a fraction: 15.0, not 15). */
export const DECIMAL_PROPERTIES_12: ReadonlySet<string> = new Set(
  [...PROPERTIES_12.values()].flatMap((m) => [...m].filter(([, k]) => k === 'decimal').map(([p]) => p)),
);
