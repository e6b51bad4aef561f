// The privacy table: the single source of truth for which data about people the output can hold, and
// what each policy (src/privacy/policy.ts) does with it. Every field name here is a field as it lands
// in the output's `com.instructure.canvas` extensions (a Canvas body or metadata field under its Canvas
// name, `user.email` for a nested one) or, in CALIPER_PROPERTIES, a Caliper property. test/privacy.test.ts
// holds it to the fields Canvas documents for each of the 82 types (test/fixtures/canvas-docs): each is
// either here or in NOT_PERSONAL. docs/privacy.md prints both (and a test keeps the page true).
import { table } from '../table.js';

/** What a field is; KINDS says what each policy does with each kind. */
export type Kind = 'user-id' | 'identifier' | 'log-key' | 'direct' | 'quasi' | 'text' | 'network' | 'user-agent' | 'url' | 'entity-id' | 'entity-name' | 'caliper';

/** What each kind is, and what pseudonymise and drop do with it (keep leaves everything as mapped). docs/privacy.md prints this. */
export const KINDS: Readonly<Record<Kind, { what: string; pseudonymise: string; drop: string }>> = {
  'user-id': { what: 'a Canvas user id', pseudonymise: 'its pseudonym', drop: 'its pseudonym' },
  identifier: { what: 'another id that names a person (SIS id, LTI user id, user uuid, session)', pseudonymise: 'its pseudonym (in its own domain)', drop: 'removed' },
  'log-key': { what: 'a key into Canvas’s own logs that re-identifies (request_id)', pseudonymise: 'removed', drop: 'removed' },
  direct: { what: 'a direct identifier with no analytic use a pseudonym does not serve (name, login, e-mail)', pseudonymise: 'removed', drop: 'removed' },
  quasi: { what: 'a quasi-identifier (time zone, file names)', pseudonymise: 'kept', drop: 'removed' },
  text: { what: 'free text a person wrote', pseudonymise: 'removed; kept with PRIVACY_KEEP_TEXT=1', drop: 'removed' },
  network: { what: 'a network identifier (the client IP)', pseudonymise: 'IPv4 /24, IPv6 /48, an IPv6 address that carries an IPv4 (IPv4-mapped, 6to4, Teredo, NAT64) by that IPv4’s /24, a port stripped first (`PRIVACY_IP=truncate`, the default) or removed (`PRIVACY_IP=drop`)', drop: 'removed' },
  'user-agent': { what: 'the browser’s User-Agent', pseudonymise: 'browser family and major version (`Chrome 73`, `Other`)', drop: 'removed' },
  url: { what: 'a URL the person visited', pseudonymise: 'scheme, host and path; user ids in the path pseudonymised (a local id with the root account’s shard), a calendar feed’s user token too; userinfo, query and fragment dropped', drop: 'removed' },
  'entity-id': { what: '`entity_id`: a user id on a person (a Person, or an entity whose id is a user’s URN), else the object’s own id', pseudonymise: 'on a person: its pseudonym; else kept', drop: 'on a person: its pseudonym; else kept' },
  'entity-name': { what: 'a name: a person’s on a person, else a thing’s', pseudonymise: 'on a person: removed; else kept', drop: 'on a person: removed; else kept' },
  caliper: { what: 'a Caliper property the strict formats moved into extensions', pseudonymise: 'walked as Caliper', drop: 'walked as Caliper' },
};

export interface Field {
  kind: Kind;
  /** The pseudonym's domain (`user`, `sis`, …): the same value in two fields of one domain gets one pseudonym. */
  domain?: string;
  /** Why, for docs/privacy.md. */
  note: string;
}

const USER_ID = (note: string): Field => ({ kind: 'user-id', domain: 'user', note });
const SIS = (note: string): Field => ({ kind: 'identifier', domain: 'sis', note });
const DIRECT = (note: string): Field => ({ kind: 'direct', note });
const TEXT = (note: string): Field => ({ kind: 'text', note });
const QUASI = (note: string): Field => ({ kind: 'quasi', note });
const URL = (note: string): Field => ({ kind: 'url', note });

/** Personal fields, by their name in the extensions, for every event type. */
export const PERSONAL: Readonly<Record<string, Field>> = table({
  // Canvas user ids (metadata.user_id becomes the actor's id, and its entity_id)
  user_id: USER_ID('the user the event is about or by'),
  real_user_id: USER_ID('the masquerading user (metadata)'),
  associated_user_id: USER_ID('the student an observer observes (enrollment_*)'),
  student_id: USER_ID('the student graded (grade_change)'),
  grader_id: USER_ID('the grader (grade_change)'),
  author_id: USER_ID('the author (conversation_message_created)'),
  'user.id': USER_ID('the student (course_completed, course_progress)'),
  entity_id: { kind: 'entity-id', domain: 'user', note: 'a user id on a person, else the object id' },
  // Other identifiers of a person
  user_sis_id: SIS('the user’s SIS id'),
  student_sis_id: SIS('the student’s SIS id (grade_change)'),
  sis_id: SIS('the assignee’s SIS id (grade_change, strict formats)'),
  sis_source_id: SIS('an SIS id (of a course, section or group: pseudonymised like every SIS id)'),
  'course.sis_source_id': SIS('the course’s SIS id (course_completed, course_progress)'),
  user_uuid: { kind: 'identifier', domain: 'user_uuid', note: 'the user’s uuid (learning_outcome_result_*)' },
  lti_user_id: { kind: 'identifier', domain: 'lti_user', note: 'the user’s LTI id (submission_*, plagiarism_resubmit)' },
  session_id: { kind: 'identifier', domain: 'session', note: 'the login session (caliper-1.2 with CALIPER_SESSION=auto-attach)' },
  request_id: { kind: 'log-key', note: 'the HTTP request: a key into Canvas Data’s requests (user, IP, URL); one per request, so a pseudonym would join nothing' },
  // Direct identifiers
  user_login: DIRECT('the login (often the e-mail address)'),
  user_name: DIRECT('the user’s name (enrollment_*)'),
  short_name: DIRECT('the user’s short name (user_*)'),
  'user.name': DIRECT('the student’s name (course_completed, course_progress)'),
  'user.email': DIRECT('the student’s e-mail address (course_completed, course_progress)'),
  email: DIRECT('an e-mail address'),
  name: { kind: 'entity-name', note: 'a person’s name on a person, else a thing’s name' },
  asset_name: { kind: 'entity-name', note: 'asset_accessed: the user’s name when the asset is a user, else the asset’s title' },
  // Quasi-identifiers
  time_zone: QUASI('the user’s time zone (metadata)'),
  user_account_id: QUASI('the account the user belongs to (metadata)'),
  filename: QUASI('a file’s name (often the student’s name in it)'),
  display_name: QUASI('a file’s display name'),
  old_display_name: QUASI('a file’s previous display name'),
  is_admin: QUASI('whether the user is an account admin (user_account_association_created)'),
  // Free text
  body: TEXT('a message, entry, comment, page or submission body'),
  text: TEXT('a discussion entry’s text'),
  message: TEXT('a notification’s message'),
  description: TEXT('a description written in Canvas (topic, assignment, outcome)'),
  old_body: TEXT('a page’s previous body'),
  syllabus_body: TEXT('the syllabus'),
  old_syllabus_body: TEXT('the previous syllabus'),
  // Network identifiers, the browser, URLs
  client_ip: { kind: 'network', note: 'the client’s IP address (metadata)' },
  user_agent: { kind: 'user-agent', note: 'the browser’s User-Agent (metadata)' },
  url: URL('a URL (metadata.url is request_url; body url fields)'),
  request_url: URL('the URL requested (metadata.url)'),
  referrer: URL('a referrer Caliper cannot take (relative)'),
  redirect_url: URL('where a login redirected to (logged_in)'),
  'progress.next_requirement_url': URL('the next module item (course_completed, course_progress)'),
  // Caliper properties the strict formats moved into extensions
  isPartOf: { kind: 'caliper', note: 'an entity (strict formats)' },
  attachments: { kind: 'caliper', note: 'entities (strict formats)' },
});

/** Where a field means something else in one event type than in the others. */
export const PERSONAL_BY_TYPE: Readonly<Record<string, Readonly<Record<string, Field>>>> = table({
  user_created: table({ uuid: { kind: 'identifier', domain: 'user_uuid', note: 'the user’s uuid' }, name: DIRECT('the user’s name') }),
  user_updated: table({ uuid: { kind: 'identifier', domain: 'user_uuid', note: 'the user’s uuid' }, name: DIRECT('the user’s name') }),
});

/**
 * Caliper properties that hold data about a person, on any entity (`name` on a person, free text) or
 * on the event (`referrer`, `session`); every other Caliper property is structure, ids (user ids in
 * any IRI are pseudonymised wherever they are) or values about things.
 */
export const CALIPER_PROPERTIES: Readonly<Record<string, Field>> = table({
  name: { kind: 'entity-name', note: 'a Person’s name (e.g. an enrollment’s member)' },
  body: TEXT('a Message’s body, an Attempt’s body, a Document’s body'),
  description: TEXT('an entity’s description'),
  value: TEXT('a Comment’s text (caliper-1.2)'),
  referrer: URL('the event’s referrer'),
  session: { kind: 'identifier', domain: 'session', note: 'the event’s Session (its id holds Canvas’s session id)' },
});

/**
 * Every other field of the 82 types: not about a person, kept by every policy. Ids of things (courses,
 * assignments, groups), their names and settings, dates, scores and states. The extension fields our
 * formats add (`version`, …) are here too. A field in neither list is removed by pseudonymise and drop.
 */
export const NOT_PERSONAL: ReadonlySet<string> = new Set([
  'accepting_enrollments', 'access_code', 'access_is_current', 'account_id', 'account_notification_id', 'account_uuid', 'aligned_to_outcomes',
  'all_day', 'all_day_date', 'allowed_attempts', 'anonymous_submissions', 'artifact_created_at', 'artifact_id', 'artifact_type',
  'artifact_updated_at', 'assessed_at', 'assessment_type', 'asset_id', 'asset_subtype', 'asset_type', 'assignment_group_id', 'assignment_id',
  'assignment_id_duplicated__from', 'assignment_id_duplicated_from', 'assignment_override_id', 'associated_asset_id', 'associated_asset_type',
  'attachment_id', 'attachment_ids', 'attempt', 'blueprint_course_id', 'blueprint_course_uuid', 'calculation_int', 'calculation_method',
  'can_manually_enroll', 'cant_go_back', 'category', 'content_migration_id', 'content_type', 'context_account_id', 'context_external_tool_id',
  'context_id', 'context_role', 'context_sis_source_id', 'context_type', 'context_uuid', 'conversation_id', 'copied_from_outcome_id',
  'course.account_id', 'course.id', 'course.name', 'course_id', 'course_section_id', 'created_at', 'created_on_blueprint_sync', 'current_score',
  'default_locale', 'default_section', 'default_time_zone', 'destination_course_lti_id', 'developer_key_id', 'disable_timer_autosubmission',
  'discussion_entry_id', 'discussion_topic_id', 'domain', 'domain_duplicated_from', 'due_at', 'end_at', 'enrollment_id', 'enrollment_term_id',
  'event_name', 'event_time', 'external_status', 'final_score', 'folder_id', 'grade', 'graded_at', 'grading_complete',
  'grading_period_id', 'group_category_id', 'group_category_name', 'group_id', 'group_limit', 'group_membership_id', 'group_name', 'group_weight',
  'hide_correct_answers_at', 'hide_results', 'hostname', 'http_method', 'icon', 'id', 'import_quizzes_next', 'integration_data', 'integration_id',
  'ip_filter', 'is_announcement', 'job_id', 'job_tag', 'late', 'learning_outcome_context_uuid', 'learning_outcome_group_context_uuid',
  'learning_outcome_group_id', 'learning_outcome_id', 'learning_outcome_link_id', 'level', 'limit_privileges_to_course_section', 'lock_at',
  'lookup_uuid', 'lti_assignment_id', 'lti_context_id', 'lti_resource_link_id', 'lti_resource_link_id_duplicated_from', 'master_migration_id',
  'master_template_id', 'mastery', 'max_membership', 'message_id', 'migration_type', 'missing', 'module_id', 'module_item_id', 'muted',
  'new_assignment_resource_link_id', 'new_course_resource_link_id', 'new_course_uuid', 'nonxlist_course_id', 'old_current_score',
  'old_final_score', 'old_grade', 'old_override_score', 'old_override_status', 'old_override_status_id', 'old_points_possible', 'old_score',
  'old_submission_status', 'old_submission_status_id', 'old_title', 'old_unposted_current_score', 'old_unposted_final_score',
  'one_question_at_a_time', 'one_time_results', 'only_visible_to_overrides', 'original_assignment_resource_link_id', 'original_course_uuid',
  'original_mastery', 'original_possible', 'original_score', 'outcome_calculation_method_id', 'outcome_proficiency_id',
  'outcome_proficiency_ratings',
  'override_score', 'override_status', 'override_status_id', 'parent_account_id', 'parent_discussion_entry_id', 'parent_outcome_group_context_uuid',
  'parent_outcome_group_id', 'percent', 'points_possible', 'position', 'possible', 'producer', 'progress.completed_at',
  'progress.requirement_completed_count', 'progress.requirement_count', 'quiz_id', 'quiz_type', 'require_lockdown_browser',
  'require_lockdown_browser_for_results', 'resource_link_id', 'resource_link_uuid', 'restrict_enrollments_to_section_dates', 'restricted_access',
  'result_context_id', 'result_context_type', 'result_context_uuid', 'role', 'root_account_id', 'root_account_lti_guid', 'root_account_uuid',
  'rubric_criterion.description', 'rubric_criterion.mastery_points', 'rubric_criterion.points_possible', 'rubric_criterion.ratings',
  'rules', 'score', 'score_id', 'scoring_policy', 'short_description', 'show_correct_answers', 'show_correct_answers_at',
  'show_correct_answers_last_attempt', 'shuffle_answers', 'sis_batch_id', 'source_course_lti_id', 'source_course_uuid', 'start_at', 'state',
  'state_is_current', 'state_started_at', 'state_valid_until', 'status', 'stuck_sis_fields', 'subject', 'submission_comment_id', 'submission_id',
  'submission_status', 'submission_status_id', 'submission_type', 'submission_types', 'submitted_at', 'time_limit', 'title', 'type',
  'unlock_at', 'unposted_current_score', 'unposted_final_score', 'updated_at', 'uuid', 'vendor_guid', 'version', 'wiki_page_id', 'workflow_state',
  'privacy', 'privacy_key_id',
]);

/** Every field of every type (but PERSONAL_BY_TYPE's): its Field, or 'kept' when it is not personal. */
export const FIELDS: ReadonlyMap<string, Field | 'kept'> = new Map<string, Field | 'kept'>([...[...NOT_PERSONAL].map((name) => [name, 'kept'] as const), ...Object.entries(PERSONAL)]);

/** FIELDS with a type's own entries over them, for each type that has some (PERSONAL_BY_TYPE). */
const FIELDS_OF_TYPE: ReadonlyMap<string, ReadonlyMap<string, Field | 'kept'>> = new Map(Object.entries(PERSONAL_BY_TYPE).map(([type, own]) => [type, new Map([...FIELDS, ...Object.entries(own)])]));

/** Every field of an event type (FIELDS, or the type's own entries over them): one lookup per field. */
export function fieldsOf(eventName: string | undefined): ReadonlyMap<string, Field | 'kept'> {
  return (eventName === undefined ? undefined : FIELDS_OF_TYPE.get(eventName)) ?? FIELDS;
}

/** The field `name` (a dotted path for a nested field) of an event type: personal (its Field), not personal ('kept'), or unknown (undefined). */
export function fieldOf(eventName: string | undefined, name: string): Field | 'kept' | undefined {
  return fieldsOf(eventName).get(name);
}
