// The privacy table: the single source of truth for which data about people an event can carry, and
// what each policy (src/privacy/policy.ts) does with it. Every name here is a RAW Canvas field: a
// metadata field (METADATA) or a body field (BODY, BODY_BY_TYPE), a nested one as a dotted path
// (`user.email`; the items of an array of objects take the array's name). The policy is applied to
// the raw event before any mapper runs, so what the table removes or pseudonymises never reaches a
// mapper, a format or the output. test/privacy.test.ts holds it to the fields Canvas documents for
// each of the 82 types (test/fixtures/canvas-docs); docs/privacy.md prints it (and a test keeps the page true).
import { table } from '../table.js';

/** What a field is; KINDS says what each policy does with each kind. */
export type Kind = 'kept' | 'kept-deep' | 'user-id' | 'typed-id' | 'typed-name' | 'identifier' | 'log-key' | 'direct' | 'quasi' | 'text' | 'network' | 'user-agent' | 'url' | 'opaque';

/** What each kind is, and what pseudonymise and drop do with it (keep leaves everything as Canvas sent it). docs/privacy.md prints this. */
export const KINDS: Readonly<Record<Kind, { what: string; pseudonymise: string; drop: string }>> = {
  kept: { what: 'not about a person: ids of things, names of things staff create, dates, scores, states (a value, or a list of values)', pseudonymise: 'kept (an object under it: its fields by the table)', drop: 'kept (an object under it: its fields by the table)' },
  'kept-deep': { what: 'an object that is not about a person all the way down (an outcome’s rating scale)', pseudonymise: 'kept whole', drop: 'kept whole' },
  'user-id': { what: 'a Canvas user id', pseudonymise: 'its pseudonym', drop: 'its pseudonym' },
  'typed-id': { what: 'an id whose type is in a sibling field: a user id when that type is `User`, else the id of a thing', pseudonymise: 'a user’s: its pseudonym; else kept', drop: 'a user’s: its pseudonym; else kept' },
  'typed-name': { what: 'a name whose meaning is in a sibling type field (asset_accessed’s asset_name: a user’s, a file’s or a thing’s)', pseudonymise: 'by its type (the asset_name rows below): a person’s removed, a file’s as text; a thing’s kept', drop: 'by the type: a person’s or a file’s removed; a thing’s kept' },
  identifier: { what: 'another id that names a person (SIS id, LTI user id, user uuid, session) or a course/section by its SIS id', pseudonymise: 'its pseudonym (in its own domain)', drop: 'removed' },
  'log-key': { what: 'a key into Canvas’s own logs that re-identifies (request_id)', pseudonymise: 'removed', drop: 'removed' },
  direct: { what: 'a direct identifier with no analytic use a pseudonym does not serve (name, login, e-mail)', pseudonymise: 'removed', drop: 'removed' },
  quasi: { what: 'a quasi-identifier (time zone, the user’s account, admin flag)', pseudonymise: 'kept', drop: 'removed' },
  text: { what: 'free text a person wrote or chose: bodies, messages, and the names users give their files', pseudonymise: 'removed; kept with PRIVACY_KEEP_TEXT=1', drop: 'removed' },
  network: { what: 'a network identifier (the client IP)', pseudonymise: 'IPv4 /24, IPv6 /48, an IPv6 address that carries an IPv4 (IPv4-mapped, 6to4, Teredo, NAT64) by that IPv4’s /24, a port stripped first (`PRIVACY_IP=truncate`, the default) or removed (`PRIVACY_IP=drop`)', drop: 'removed' },
  'user-agent': { what: 'the browser’s User-Agent', pseudonymise: 'browser family and major version (`Chrome 73`, `Other`)', drop: 'removed' },
  opaque: { what: 'data whose contents Canvas does not document (an integration’s own data: logins, e-mails and user ids may be in it)', pseudonymise: 'removed', drop: 'removed' },
  url: { what: 'a URL (visited, referred from, submitted, configured)', pseudonymise: 'a Canvas URL becomes its route (route words and ids; user ids in a user position and sis_user_id: forms as pseudonyms; other segments a placeholder; allowlisted query parameters only); another host its origin; other schemes removed (src/privacy/url.ts)', drop: 'removed' },
};

export interface Field {
  kind: Kind;
  /** The pseudonym's domain (`user`, `person_sis`, …): the same value in two fields of one domain gets one pseudonym; equal texts in two domains get two. */
  domain?: string;
  /** typed-id, typed-name: the sibling field that holds the value's type (typed-id: a user's when it is `User`, in any case). */
  on?: string;
  /** typed-name: the field as it is for each type (lower case); any other type's is kept. */
  cases?: Readonly<Record<string, Field>>;
  /** Why, for docs/privacy.md. */
  note: string;
}

const KEPT = (note: string): Field => ({ kind: 'kept', note });
const USER_ID = (note: string): Field => ({ kind: 'user-id', domain: 'user', note });
const TYPED_ID = (on: string, note: string): Field => ({ kind: 'typed-id', on, note });
const PERSON_SIS = (note: string): Field => ({ kind: 'identifier', domain: 'person_sis', note });
const CONTEXT_SIS = (note: string): Field => ({ kind: 'identifier', domain: 'context_sis', note });
const DIRECT = (note: string): Field => ({ kind: 'direct', note });
const TEXT = (note: string): Field => ({ kind: 'text', note });
const QUASI = (note: string): Field => ({ kind: 'quasi', note });
const URL = (note: string): Field => ({ kind: 'url', note });
const DEEP = (note: string): Field => ({ kind: 'kept-deep', note });

/** Metadata fields (Canvas's data_service_canvas_event_metadata). */
export const METADATA: Readonly<Record<string, Field>> = table({
  event_name: KEPT('the event type'),
  event_time: KEPT('when it happened'),
  producer: KEPT('the producing system'),
  hostname: KEPT('the institution’s Canvas host'),
  http_method: KEPT('the request’s method'),
  root_account_id: KEPT('the root account (an institution)'),
  root_account_uuid: KEPT('the root account’s uuid (anchors user pseudonyms)'),
  root_account_lti_guid: KEPT('the root account’s LTI id'),
  context_account_id: KEPT('the context’s account'),
  context_role: KEPT('the user’s role in the context (an enrollment type)'),
  context_type: KEPT('Course, Group, Account, User, …'),
  context_id: TYPED_ID('context_type', 'the context: a user’s id when the context is a User (their own files)'),
  context_sis_source_id: CONTEXT_SIS('the context’s SIS id (a course’s, a section’s)'),
  developer_key_id: KEPT('the API key’s developer key'),
  job_id: KEPT('the job that made the event'),
  job_tag: KEPT('the job’s kind'),
  user_id: USER_ID('the user who acted'),
  real_user_id: USER_ID('the masquerading user'),
  user_sis_id: PERSON_SIS('the user’s SIS id'),
  user_login: DIRECT('the login (often the e-mail address)'),
  user_account_id: QUASI('the account the user belongs to'),
  time_zone: QUASI('the user’s time zone'),
  session_id: { kind: 'identifier', domain: 'session', note: 'the login session' },
  request_id: { kind: 'log-key', note: 'the HTTP request: a key into Canvas Data’s requests (user, IP, URL); one per request, so a pseudonym would join nothing' },
  client_ip: { kind: 'network', note: 'the client’s IP address' },
  user_agent: { kind: 'user-agent', note: 'the browser’s User-Agent' },
  url: URL('the URL requested'),
  referrer: URL('the page the request came from'),
});

/** asset_accessed's asset_name by asset_type: a user's name (direct), a file's name (text); another asset's title is kept. */
export const ASSET_NAME: Readonly<Record<string, Field>> = table({
  user: DIRECT('a user’s name (asset_accessed of a profile)'),
  attachment: TEXT('a file’s name (asset_accessed of a file)'),
  folder: TEXT('a folder’s name (asset_accessed of a folder)'),
});

/** Body fields that mean the same in every type (BODY_BY_TYPE: where one type's differs). */
export const BODY: Readonly<Record<string, Field>> = table({
  // Canvas user ids, and ids whose type says they may be one
  user_id: USER_ID('the user the event is about or by'),
  associated_user_id: USER_ID('the student an observer observes (enrollment_*)'),
  student_id: USER_ID('the student graded (grade_change)'),
  grader_id: USER_ID('the grader (grade_change)'),
  author_id: USER_ID('the author (conversation_message_created)'),
  'user.id': USER_ID('the student (course_completed, course_progress)'),
  context_id: TYPED_ID('context_type', 'the object’s context: a user’s id when the context is a User (a file in their own folder)'),
  asset_id: TYPED_ID('asset_type', 'the asset: a user’s id when the asset is a user (a profile viewed)'),
  associated_asset_id: TYPED_ID('associated_asset_type', 'the asset an outcome result is about'),
  artifact_id: TYPED_ID('artifact_type', 'what an outcome was assessed on (a submission, a rubric assessment)'),
  result_context_id: TYPED_ID('result_context_type', 'the context of an outcome result'),
  // Other identifiers of a person, and SIS ids of contexts (separate domains)
  user_sis_id: PERSON_SIS('the user’s SIS id (user_*)'),
  student_sis_id: PERSON_SIS('the student’s SIS id (grade_change)'),
  sis_source_id: CONTEXT_SIS('the SIS id of a course, section or group (their own domain, not a person’s)'),
  'course.sis_source_id': CONTEXT_SIS('the course’s SIS id (course_completed, course_progress)'),
  user_uuid: { kind: 'identifier', domain: 'user_uuid', note: 'the user’s uuid (learning_outcome_result_*)' },
  lti_user_id: { kind: 'identifier', domain: 'lti_user', note: 'the user’s LTI id (submission_*, plagiarism_resubmit)' },
  // Direct identifiers
  user_login: DIRECT('the login (user_*)'),
  user_name: DIRECT('the user’s name (enrollment_*)'),
  short_name: DIRECT('the user’s short name (user_*)'),
  'user.name': DIRECT('the student’s name (course_completed, course_progress)'),
  'user.email': DIRECT('the student’s e-mail address (course_completed, course_progress)'),
  email: DIRECT('an e-mail address'),
  // Quasi-identifiers
  is_admin: QUASI('whether the user is an account admin (user_account_association_created)'),
  // Free text, and the names users give their files
  body: TEXT('a message, entry, comment, page or submission body'),
  text: TEXT('a discussion entry’s text'),
  message: TEXT('a notification’s message'),
  description: TEXT('a description written in Canvas (topic, assignment, outcome)'),
  old_body: TEXT('a page’s previous body'),
  syllabus_body: TEXT('the syllabus'),
  old_syllabus_body: TEXT('the previous syllabus'),
  filename: TEXT('a file’s name as uploaded: users name files after themselves and their work'),
  display_name: TEXT('a file’s display name (attachment_*, asset_accessed): chosen by whoever uploaded it'),
  old_display_name: TEXT('a file’s previous display name'),
  // URLs: every one goes through the URL reducer
  url: URL('a URL: the asset’s, a tool’s, or a URL a student submitted'),
  redirect_url: URL('where a login redirected to (logged_in)'),
  'progress.next_requirement_url': URL('the next module item (course_completed, course_progress)'),
  integration_data: { kind: 'opaque', note: 'an SIS integration’s own data (assignment_group_*): what it holds is the integration’s' },
  // Objects that are not about a person all the way down
  outcome_proficiency_ratings: DEEP('a proficiency scale’s ratings (descriptions staff wrote, points, colours)'),
  'rubric_criterion.ratings': DEEP('an outcome’s rating scale'),
  // Objects whose fields are looked up one by one (a field of them not here is removed)
  user: KEPT('the student (course_completed, course_progress): its fields below'),
  course: KEPT('the course (course_completed, course_progress): its fields below'),
  progress: KEPT('the progress (course_completed, course_progress): its fields below'),
  rubric_criterion: KEPT('an outcome’s criterion: its fields below'),
  // Names of things staff create, kept (a person's name is PERSONAL_BY_TYPE's)
  name: KEPT('the name of an account, course, assignment group, group, module, outcome, …'),
  title: KEPT('the title of an assignment, page, topic, quiz'),
  old_title: KEPT('a page’s previous title'),
  asset_name: { kind: 'typed-name', on: 'asset_type', cases: ASSET_NAME, note: 'the asset’s name (asset_accessed): a user’s, a file’s or a folder’s by asset_type (below), else a thing’s title' },
  group_name: KEPT('a group’s name'),
  group_category_name: KEPT('a group set’s name'),
  'course.name': KEPT('the course’s name'),
  subject: KEPT('an account notification’s subject (written by an administrator)'),
  short_description: KEPT('an outcome’s short description'),
  'rubric_criterion.description': KEPT('an outcome criterion’s description (written by staff)'),
});

/** What a body field means in one event type when it differs from BODY. */
export const BODY_BY_TYPE: Readonly<Record<string, Readonly<Record<string, Field>>>> = table({
  user_created: table({ uuid: { kind: 'identifier', domain: 'user_uuid', note: 'the user’s uuid' }, name: DIRECT('the user’s name') }),
  user_updated: table({ uuid: { kind: 'identifier', domain: 'user_uuid', note: 'the user’s uuid' }, name: DIRECT('the user’s name') }),
  // An outcome's display name is the name staff gave it, not a file's.
  learning_outcome_created: table({ display_name: KEPT('the outcome’s display name (written by staff)') }),
  learning_outcome_updated: table({ display_name: KEPT('the outcome’s display name (written by staff)') }),
});

/**
 * Every other body field of the 82 types: not about a person, kept by every policy (a value, or a
 * list of values: an object under one is looked up field by field). Ids of things, dates, scores,
 * states, settings. A field in neither list is removed by pseudonymise and drop — and so is an
 * object under a field whose own fields are not listed (integration_data: an integration's own data,
 * which may hold logins and user ids).
 */
export const NOT_PERSONAL: ReadonlySet<string> = new Set([
  'accepting_enrollments', 'access_code', 'access_is_current', 'account_id', 'account_notification_id', 'account_uuid', 'aligned_to_outcomes',
  'all_day', 'all_day_date', 'allowed_attempts', 'anonymous_submissions', 'artifact_created_at', 'artifact_type',
  'artifact_updated_at', 'assessed_at', 'assessment_type', 'asset_subtype', 'asset_type', 'assignment_group_id', 'assignment_id',
  'assignment_id_duplicated__from', 'assignment_id_duplicated_from', 'assignment_override_id', 'associated_asset_type',
  'attachment_id', 'attachment_ids', 'attempt', 'blueprint_course_id', 'blueprint_course_uuid', 'calculation_int', 'calculation_method',
  'can_manually_enroll', 'cant_go_back', 'category', 'content_migration_id', 'content_type', 'context_account_id', 'context_external_tool_id',
  'context_role', 'context_type', 'context_uuid', 'conversation_id', 'copied_from_outcome_id',
  'course.account_id', 'course.id', 'course_id', 'course_section_id', 'created_at', 'created_on_blueprint_sync', 'current_score',
  'default_locale', 'default_section', 'default_time_zone', 'destination_course_lti_id', 'developer_key_id', 'disable_timer_autosubmission',
  'discussion_entry_id', 'discussion_topic_id', 'domain', 'domain_duplicated_from', 'due_at', 'end_at', 'enrollment_id', 'enrollment_term_id',
  'event_name', 'event_time', 'external_status', 'final_score', 'folder_id', 'grade', 'graded_at', 'grading_complete',
  'grading_period_id', 'group_category_id', 'group_id', 'group_limit', 'group_membership_id', 'group_weight',
  'hide_correct_answers_at', 'hide_results', 'icon', 'id', 'import_quizzes_next', 'integration_id',
  'ip_filter', 'is_announcement', 'late', 'learning_outcome_context_uuid', 'learning_outcome_group_context_uuid',
  'learning_outcome_group_id', 'learning_outcome_id', 'learning_outcome_link_id', 'level', 'limit_privileges_to_course_section', 'lock_at',
  'lookup_uuid', 'lti_assignment_id', 'lti_context_id', 'lti_resource_link_id', 'lti_resource_link_id_duplicated_from', 'master_migration_id',
  'master_template_id', 'mastery', 'max_membership', 'message_id', 'migration_type', 'missing', 'module_id', 'module_item_id', 'muted',
  'new_assignment_resource_link_id', 'new_course_resource_link_id', 'new_course_uuid', 'nonxlist_course_id', 'old_current_score',
  'old_final_score', 'old_grade', 'old_override_score', 'old_override_status', 'old_override_status_id', 'old_points_possible', 'old_score',
  'old_submission_status', 'old_submission_status_id', 'old_unposted_current_score', 'old_unposted_final_score',
  'one_question_at_a_time', 'one_time_results', 'only_visible_to_overrides', 'original_assignment_resource_link_id', 'original_course_uuid',
  'original_mastery', 'original_outcome_root_account_uuid', 'original_possible', 'original_score', 'outcome_calculation_method_id', 'outcome_proficiency_id',
  'override_score', 'override_status', 'override_status_id', 'parent_account_id', 'parent_discussion_entry_id', 'parent_outcome_group_context_uuid',
  'parent_outcome_group_id', 'percent', 'points_possible', 'position', 'possible', 'progress.completed_at',
  'progress.requirement_completed_count', 'progress.requirement_count', 'quiz_id', 'quiz_type', 'require_lockdown_browser',
  'require_lockdown_browser_for_results', 'resource_link_id', 'resource_link_uuid', 'restrict_enrollments_to_section_dates', 'restricted_access',
  'result_context_type', 'result_context_uuid', 'role', 'root_account_id', 'root_account_lti_guid', 'root_account_uuid',
  'rubric_criterion.mastery_points', 'rubric_criterion.points_possible',
  'rules', 'score', 'score_id', 'scoring_policy', 'show_correct_answers', 'show_correct_answers_at',
  'show_correct_answers_last_attempt', 'shuffle_answers', 'sis_batch_id', 'source_course_lti_id', 'source_course_uuid', 'start_at', 'state',
  'state_is_current', 'state_started_at', 'state_valid_until', 'status', 'stuck_sis_fields', 'submission_comment_id', 'submission_id',
  'submission_status', 'submission_status_id', 'submission_type', 'submission_types', 'submitted_at', 'time_limit', 'type',
  'unlock_at', 'unposted_current_score', 'unposted_final_score', 'updated_at', 'uuid', 'vendor_guid', 'wiki_page_id', 'workflow_state',
]);

const KEPT_FIELD: Field = KEPT('not about a person');

/** Every body field of every type (but BODY_BY_TYPE's): its Field. */
export const BODY_FIELDS: ReadonlyMap<string, Field> = new Map<string, Field>([...[...NOT_PERSONAL].map((name) => [name, KEPT_FIELD] as const), ...Object.entries(BODY)]);
export const METADATA_FIELDS: ReadonlyMap<string, Field> = new Map(Object.entries(METADATA));

/** BODY_FIELDS with a type's own entries over them, for each type that has some. */
const BODY_OF_TYPE: ReadonlyMap<string, ReadonlyMap<string, Field>> = new Map(Object.entries(BODY_BY_TYPE).map(([type, own]) => [type, new Map([...BODY_FIELDS, ...Object.entries(own)])]));

/** Every body field of an event type (BODY_FIELDS, or the type's own entries over them): one lookup per field. */
export function bodyFieldsOf(eventName: string | undefined): ReadonlyMap<string, Field> {
  return (eventName === undefined ? undefined : BODY_OF_TYPE.get(eventName)) ?? BODY_FIELDS;
}

/** The raw field `name` (`metadata.x` or `body.x`, nested dotted) of an event type, or undefined when the table does not know it. */
export function fieldOf(eventName: string | undefined, name: string): Field | undefined {
  if (name.startsWith('metadata.')) return METADATA_FIELDS.get(name.slice(9));
  return bodyFieldsOf(eventName).get(name.startsWith('body.') ? name.slice(5) : name);
}
