// `caliper-1.1`: strict IMS Caliper 1.1. The event the mapper and builders made (Instructure's
// format) is transformed, rule by rule, into one that the spec's event × action × object table and
// entity property tables accept with no departure, and that IMS's JSON Schemas for 1.1 accept; every
// raw body field lands in a Caliper property or in the extensions of the entity it belongs to.
// docs/format-caliper-1.1.md explains each table.
import { allowedProperties, isA, PROPERTY_KINDS, requiredProperties, SPEC_RULES, specActors, type CaliperEvent, type Entity } from '../caliper/model.js';
import { MAX_LENGTHS_11 } from '../caliper/strict11.js';
import type { RawEvent } from '../raw.js';
import { table } from '../table.js';
import { ROLES } from '../../mappers/builders.js';
import { addBodyFields, canvasExtensionsOf, forEachEntity, isEntity, moveUndefinedProperties, ordered, urnKind, type PropertyRules } from './entities.js';

// ---------------------------------------------------------------------------------------------
// Tables

/**
 * Entities Instructure (or our mapper) types as the generic `Entity`: their Caliper 1.1 type by URN
 * kind. IMS's 1.1 schemas accept no bare Entity as an event's object, and each of these is a thing
 * Caliper has a type for. Any other generic Entity becomes a DigitalResource.
 */
export const ENTITY_TYPE_BY_KIND_11: Readonly<Record<string, string>> = table({
  account: 'Organization', // user_account_association_created: the account the user joined
  assignment_override: 'AssignableDigitalResource', // its own dates to show and submit, for some students
  content_migration: 'DigitalResource', // the content package being imported
  'master_courses/master_migration': 'DigitalResource', // the blueprint content being synced
  content_tag: 'DigitalResource', // learning_outcome_link_*: an outcome placed in a context
  enrollment: 'Membership', // a user's role in a course or section
  groupCategory: 'Organization', // a set of groups; each Group is a subOrganizationOf it
  learning_outcome_group: 'DigitalResourceCollection', // a folder of outcomes
  outcome_calculation_method: 'DigitalResource', // a context's outcome setting
  outcome_proficiency: 'DigitalResource', // a context's mastery scale
  sis_batch: 'DigitalResource', // the SIS import file
});
const DEFAULT_ENTITY_TYPE = 'DigitalResource';

/** asset_accessed: the DigitalResource subtype (or SoftwareApplication) of each Canvas asset type. */
export const NAVIGATION_ASSET_TYPES_11: Readonly<Record<string, string>> = table({
  assignment: 'AssignableDigitalResource',
  discussion_topic: 'Thread',
  wiki_page: 'Page',
  attachment: 'Document',
  collaboration: 'Document',
  calendar_event: 'DigitalResource',
  content_tag: 'DigitalResource',
  web_conference: 'DigitalResource',
  quiz: 'Assessment',
  'quizzes:quiz': 'Assessment',
  'quizzes/quiz': 'Assessment',
  // A tool's page: in 1.1 a NavigationEvent's object is a DigitalResource (IMS's reference
  // implementation refuses a SoftwareApplication, an Agent in 1.1); caliper-1.2 takes this table too.
  context_external_tool: 'DigitalResource',
  'lti/tool_proxy': 'DigitalResource',
  enrollment: 'WebPage',
  learning_outcome: 'WebPage',
});

/** asset_accessed of a context (account, course, group, user): the tab (`asset_subtype`) it shows. */
export const NAVIGATION_TABS_11: Readonly<Record<string, string>> = table({
  announcements: 'Forum',
  topics: 'Forum',
  assignments: 'DigitalResourceCollection',
  collaborations: 'DigitalResourceCollection',
  conferences: 'DigitalResourceCollection',
  files: 'DigitalResourceCollection',
  modules: 'DigitalResourceCollection',
  outcomes: 'DigitalResourceCollection',
  pages: 'DigitalResourceCollection',
  quizzes: 'DigitalResourceCollection',
  calendar_feed: 'Document',
  syllabus: 'Document',
  home: 'WebPage',
  grades: 'WebPage',
  roster: 'WebPage',
  speed_grader: 'WebPage',
});
const NAVIGATION_CONTEXTS = new Set(['account', 'course', 'group', 'user']);

/** The type of the resource an asset_accessed event navigated to. */
export function navigationType(body: Record<string, unknown>): string {
  const assetType = String(body.asset_type);
  const subtype = typeof body.asset_subtype === 'string' ? body.asset_subtype : undefined;
  if (NAVIGATION_CONTEXTS.has(assetType)) return (subtype && NAVIGATION_TABS_11[subtype]) || 'WebPage';
  return NAVIGATION_ASSET_TYPES_11[assetType] ?? 'DigitalResource';
}

/**
 * Instructure's 32 types: the body fields its mapper put into a Caliper property (field → property)
 * of the entity the body describes. Every other body field not already in that entity's extensions
 * is added there under its Canvas name; a property the strict format drops gives its field back.
 * Our 50 types need no entry: their mappers keep every field (test/coverage.test.ts).
 */
const created = (dated: 'dateCreated' | 'dateModified') => ({ updated_at: dated });
const ASSIGNMENT = { assignment_id: 'id', title: 'name', description: 'description', unlock_at: 'dateToShow', due_at: 'dateToSubmit', points_possible: 'maxScore' };
const OVERRIDE = { assignment_override_id: 'id', title: 'name', unlock_at: 'dateToShow', due_at: 'dateToSubmit' };
const ATTACHMENT = { attachment_id: 'id', display_name: 'name', content_type: 'mediaType' };
const COURSE = { course_id: 'id', name: 'name' };
const ENROLLMENT_STATE = { enrollment_id: 'id', state_started_at: 'startedAtTime' };
const QUIZ = { quiz_id: 'id', title: 'name', unlock_at: 'dateToShow', due_at: 'dateToSubmit', points_possible: 'maxScore' };
const SUBMISSION = { submission_id: 'id', assignment_id: 'assignable', attempt: 'count', body: 'body', user_id: 'assignee' };
const WIKI_PAGE = { wiki_page_id: 'id', title: 'name' };
export const PLACED_BODY_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = table<Record<string, string>>({
  asset_accessed: { asset_id: 'id' },
  assignment_created: { ...ASSIGNMENT, ...created('dateCreated') },
  assignment_updated: { ...ASSIGNMENT, ...created('dateModified') },
  assignment_override_created: OVERRIDE,
  assignment_override_updated: OVERRIDE,
  attachment_created: { ...ATTACHMENT, ...created('dateCreated') },
  attachment_updated: { ...ATTACHMENT, ...created('dateModified') },
  attachment_deleted: { ...ATTACHMENT, ...created('dateModified') },
  course_created: COURSE,
  course_updated: COURSE,
  syllabus_updated: { course_id: 'id', syllabus_body: 'body' },
  discussion_entry_created: { discussion_entry_id: 'id', text: 'body', discussion_topic_id: 'isPartOf' },
  discussion_topic_created: { discussion_topic_id: 'id', title: 'name' },
  enrollment_created: { enrollment_id: 'id', created_at: 'dateCreated' },
  enrollment_updated: { enrollment_id: 'id', created_at: 'dateCreated', updated_at: 'dateModified' },
  enrollment_state_created: ENROLLMENT_STATE,
  enrollment_state_updated: ENROLLMENT_STATE,
  grade_change: { submission_id: 'id', assignment_id: 'assignable', student_id: 'assignee', user_id: 'assignee', grader_id: 'scoredBy', score: 'scoreGiven', points_possible: 'maxScore' },
  group_category_created: { group_category_id: 'id', group_category_name: 'name' },
  group_created: { group_id: 'id', group_name: 'name', group_category_id: 'isPartOf', group_category_name: 'isPartOf' },
  group_membership_created: {
    group_membership_id: 'id', user_id: 'member', group_id: 'organization', group_name: 'organization', group_category_id: 'organization', group_category_name: 'organization',
  },
  logged_in: {},
  logged_out: {},
  quiz_created: { ...QUIZ, ...created('dateCreated') },
  quiz_updated: { ...QUIZ, ...created('dateModified') },
  quiz_submitted: { submission_id: 'id', quiz_id: 'assignable' },
  submission_created: { ...SUBMISSION, ...created('dateCreated') },
  submission_updated: { ...SUBMISSION, ...created('dateModified') },
  user_account_association_created: { account_id: 'id', created_at: 'dateCreated', updated_at: 'dateModified' },
  wiki_page_created: WIKI_PAGE,
  wiki_page_updated: WIKI_PAGE,
  wiki_page_deleted: WIKI_PAGE,
});

/** Properties an entity type does not have but names under another term. */
const RENAMED_11: Readonly<Record<string, Readonly<Record<string, string>>>> = table({
  // group_created, group_membership_created: the group category the group belongs to.
  Group: { isPartOf: 'subOrganizationOf' },
});

/** Canvas enrollment states that say whether the membership is in force (invited, creation_pending say neither). */
const ENROLLMENT_STATUS: Readonly<Record<string, string>> = table({ active: 'Active', inactive: 'Inactive', completed: 'Inactive', deleted: 'Inactive', rejected: 'Inactive' });

/**
 * Per event type: where Instructure's event departs from the spec's event × action × object table,
 * the spec's own form of the same event (docs/caliper-departures.md, departures 1–5).
 */
type EventRule = (event: CaliperEvent, raw: RawEvent) => void;
const submittedAttempt: EventRule = (event) => {
  // The submission (an Attempt) is what submitting generated; the object is what was submitted to.
  const attempt = event.object;
  if (isEntity(attempt.assignable)) {
    event.object = { id: attempt.assignable.id, type: attempt.assignable.type };
    event.generated = attempt;
  }
};
export const EVENT_RULES_11: Readonly<Record<string, EventRule>> = table({
  // Departure 1: ThreadEvent allows no Created: the generic Event Created, object the Thread.
  discussion_topic_created: (event) => {
    if (event.type === 'ThreadEvent') event.type = 'Event';
  },
  // Departures 2, 3: AssessmentEvent / AssignableEvent Submitted, object the Assessment / assignment, generated the Attempt.
  quiz_submitted: submittedAttempt,
  submission_created: submittedAttempt,
  // Departure 4: the most specific DigitalResource subtype (or SoftwareApplication) of the asset, never a bare Entity.
  asset_accessed: (event, raw) => {
    event.object.type = navigationType(raw.body);
  },
  enrollment_created: (event) => enrollmentMembership(event.object),
  enrollment_updated: (event) => enrollmentMembership(event.object),
});

/** An enrollment is a Membership: its user, its course or section, its role and whether it is in force. */
function enrollmentMembership(object: Entity): void {
  const ext = canvasExtensionsOf(object);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const user = str(ext.user_id);
  const section = str(ext.course_section_id);
  const course = str(ext.course_id);
  // Without its user or its course it cannot be a Membership (both are required): the generic rules type it.
  if (!user || !(section || course)) return;
  object.type = 'Membership';
  object.member = { id: user, type: 'Person' };
  if (section) object.organization = { id: section, type: 'CourseSection', subOrganizationOf: course ? { id: course, type: 'CourseOffering' } : undefined };
  else if (course) object.organization = { id: course, type: 'CourseOffering' };
  const roles = ROLES[String(ext.type)]?.roles;
  if (roles) object.roles = [...roles];
  const status = ENROLLMENT_STATUS[String(ext.workflow_state)];
  if (status) object.status = status;
}

// ---------------------------------------------------------------------------------------------
// The transform

const holdsEntities11 = (property: string) => PROPERTY_KINDS[property] === 'entity' || PROPERTY_KINDS[property] === 'entities';

export const PROPERTY_RULES_11: PropertyRules = {
  allowed: (type) => allowedProperties(type, false),
  maxLength: (property) => MAX_LENGTHS_11[property],
  renamed: (type, property) => RENAMED_11[type]?.[property],
};

/** The vocabulary a strict transform works with; caliper-1.2 passes its own. */
export interface Vocabulary {
  holdsEntities(property: string): boolean;
  properties: PropertyRules;
  /** The type of a generic `Entity`, by URN kind (undefined: the format's default type). */
  entityType(kind: string | undefined): string;
  /** The properties an entity of this type must have. */
  required(type: string): readonly string[];
  /** A more specific type this format has for an entity of this URN kind, whatever its type. */
  retype?(kind: string | undefined): string | undefined;
}

export const VOCABULARY_11: Vocabulary = {
  holdsEntities: holdsEntities11,
  properties: PROPERTY_RULES_11,
  entityType: (kind) => (kind && ENTITY_TYPE_BY_KIND_11[kind]) || DEFAULT_ENTITY_TYPE,
  required: requiredProperties,
};

/**
 * The generic rules, for every entity of the event: a generic Entity gets its type by URN kind (the
 * default type when it lacks what that type requires); a
 * property its type does not define (or too long a string) moves into its extensions; then every body
 * field not yet in the output goes into the extensions of the entity the body describes (the one
 * with the id of the mapper's object).
 */
export function applyEntityRules(event: CaliperEvent, raw: RawEvent, bodyEntityId: string, vocabulary: Vocabulary): void {
  const placed = PLACED_BODY_FIELDS[raw.metadata.event_name];
  const fromBody = placed ? new Set(Object.values(placed)) : undefined;
  let described: Entity | undefined;
  let dropped = new Set<string>();
  forEachEntity(event, vocabulary.holdsEntities, (entity, at) => {
    const kind = urnKind(entity.id);
    if (entity.type === 'Entity') {
      // A type whose required properties the entity lacks (an enrollment state names no user: no
      // Membership) gives way to the format's default type.
      const typed = vocabulary.entityType(kind);
      entity.type = vocabulary.required(typed).every((p) => entity[p] !== undefined) ? typed : vocabulary.entityType(undefined);
    }
    entity.type = vocabulary.retype?.(kind) ?? entity.type;
    const isBodyEntity = !described && entity.id === bodyEntityId && (at === 'object' || at === 'generated');
    if (isBodyEntity) described = entity;
    const lost = moveUndefinedProperties(entity, vocabulary.properties, isBodyEntity ? fromBody : undefined);
    if (isBodyEntity) dropped = lost;
  });
  if (placed && described) {
    const kept = Object.keys(placed).filter((field) => !dropped.has(placed[field]!));
    addBodyFields(described, raw.body, kept);
  }
}

/** Whether the event type takes this actor for its action; if not, the event is the generic Event with the same action (docs/mapping-rules.md). */
export function genericWhenActorRefused(
  event: CaliperEvent,
  actorTypes: (type: string, action: string) => readonly string[],
  isA_: (t: string, r: string) => boolean,
): void {
  const actorType = event.actor.type;
  if (event.type !== 'Event' && !actorTypes(event.type, event.action).some((a) => isA_(actorType, a))) event.type = 'Event';
}

/** The caliper-1.1 event for an event in Instructure's format (already pruned) and its raw event. */
export function toCaliper11(event: CaliperEvent, raw: RawEvent): CaliperEvent {
  const bodyEntityId = event.object.id;
  EVENT_RULES_11[raw.metadata.event_name]?.(event, raw);
  genericWhenActorRefused(event, (type, action) => (type in SPEC_RULES ? specActors(type as keyof typeof SPEC_RULES, action) : ['Agent']), isA);
  applyEntityRules(event, raw, bodyEntityId, VOCABULARY_11);
  return ordered(event);
}
