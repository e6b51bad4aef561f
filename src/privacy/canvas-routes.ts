// What a Canvas URL may keep, as tables: the words of Canvas's routes, the query parameters Canvas
// itself uses whose values are harmless (and which of them name a user), and where in a route Canvas
// puts a user's id. src/privacy/url.ts reads them; docs/urls.md prints what they mean. Built from every
// URL in Instructure's Live Events documentation (test/fixtures/canvas-docs/urls.json, which
// test/url.test.ts holds these tables to) and from Canvas's routes (canvas-lms config/routes.rb and its
// REST API's paths). Everything not named here is masked (keep) or left out (pseudonymise): a list of
// what is harmless fails closed, a list of what is dangerous fails open.

/**
 * The words of Canvas's routes (lower case; a path segment is matched case-insensitively, after
 * percent-decoding, with a format suffix such as `.json` set aside). Under pseudonymise a path keeps
 * these and ids; every other segment (a page's slug, a file or folder name, a feed's token, an
 * e-mail) becomes a placeholder. A word here is Canvas's, never a person's.
 */
export const ROUTE_WORDS: ReadonlySet<string> = new Set([
  // API roots and versions
  'api', 'v1', 'lti', 'graphql', 'quiz', 'quiz_submission_events',
  // contexts
  'accounts', 'courses', 'groups', 'users', 'user', 'sections', 'self', 'sub_accounts', 'terms', 'root_accounts',
  // people and their pages
  'about', 'profile', 'settings', 'students', 'teachers', 'observees', 'observers', 'graders', 'admins', 'enrollments',
  'enroll_users', 'memberships', 'group_memberships', 'logins', 'pseudonyms', 'communication_channels',
  'notification_preferences', 'avatars', 'avatar', 'page_views', 'merge_into', 'masquerade', 'attendance',
  // content
  'assignments', 'assignment_groups', 'assignment_overrides', 'overrides', 'submissions', 'anonymous_submissions',
  'submission_comments', 'comments', 'files', 'folders', 'file_contents', 'download', 'downloads', 'preview',
  'inline', 'inline_view', 'contents', 'capture', 'uploads', 'upload', 'create_success', 'quota', 'usage', 'pages',
  'wiki', 'wiki_pages', 'revisions', 'front_page', 'quizzes', 'quiz_submissions', 'questions', 'quiz_questions',
  'quiz_groups', 'quiz_extensions', 'take', 'history', 'statistics', 'discussion_topics', 'discussion_entries',
  'entries', 'replies', 'view', 'entry_list', 'read', 'read_all', 'unread', 'subscribed', 'modules', 'items',
  'module_items', 'progressions', 'sequence', 'duplicate', 'reorder', 'announcements', 'calendar', 'calendar_events',
  'calendars', 'feeds', 'external_feeds', 'conversations', 'messages', 'add_message', 'add_recipients',
  'remove_messages', 'forward_message', 'recipients', 'conferences', 'join', 'collaborations', 'external_tools',
  'sessionless_launch', 'retrieve', 'resource_selection', 'deep_linking_response', 'deep_link', 'launch',
  'resource', 'resource_links', 'tools', 'grade_passback', 'line_items', 'scores', 'results', 'names_and_roles',
  'syllabus', 'media_objects', 'media_attachments', 'media_tracks', 'media_download', 'thumbnails', 'eportfolios',
  'categories', 'question_banks', 'assessment_questions', 'rubrics', 'rubric_associations', 'rubric_assessments',
  'assessments', 'collection', 'blueprint_templates', 'blueprint_subscriptions', 'migrations', 'content_migrations',
  'migration_issues', 'content_exports', 'content_imports', 'imports', 'content_shares', 'course_copy', 'copy',
  // grades and outcomes
  'grades', 'gradebook', 'speed_grader', 'update_submission', 'gradebook_settings', 'gradebook_history',
  'gradebook_upload', 'gradebook_uploads', 'grading_standards', 'grading_periods', 'grading_period_sets',
  'peer_reviews', 'assign_peer_reviews', 'provisional_grades', 'moderate', 'moderated_students', 'late_policy',
  'outcomes', 'outcome_groups', 'outcome_results', 'outcome_rollups', 'outcome_proficiency',
  'outcome_calculation_method', 'outcome_imports', 'alignments', 'retry_alignment_clone', 'audit', 'grade_change',
  'turnitin', 'vericite', 'originality_report', 'originality_reports', 'resubmit', 'analytics', 'activity',
  'student_summaries', 'course_statistics',
  // accounts, SIS and administration
  'account_notifications', 'sis_imports', 'sis_import_errors', 'crosslist', 'group_categories', 'clone_with_name',
  'roles', 'role_overrides', 'permissions', 'reports', 'tabs', 'brand_variables', 'help_links', 'progress',
  'authentication_providers', 'developer_keys', 'jobs',
  // navigation, sign-in and the dashboard
  'login', 'logout', 'saml', 'saml2', 'canvas', 'cas', 'ldap', 'openid_connect', 'oauth2', 'auth', 'token', 'confirm',
  'callback', 'idp', 'redirect', 'sso', 'dashboard', 'dashboard_cards', 'planner', 'planner_notes', 'todo',
  'activity_stream', 'summary', 'search', 'all_courses', 'notifications', 'new', 'edit', 'publish', 'unpublish',
  'link_validator', 'student_view', 'assets', 'images', 'health_check',
]);

/** What a query parameter's value is, and so what pseudonymise keeps of it (keep keeps every allowlisted value as sent). */
export type ParameterValue =
  /** A Canvas id (`565`, `2107~565`) of a thing, kept. */
  | 'id'
  /** A user's id (or `sis_user_id:` / `sis_login_id:` form), pseudonymised. */
  | 'user'
  /** One of Canvas's words, flags or numbers (`updated_at`, `desc`, `true`, `100`), kept. */
  | 'word'
  /** A date or time, kept. */
  | 'time';

/**
 * Canvas's own query parameters whose values are harmless (by their decoded name, lower case, a
 * trailing `[]` set aside: `include[]`, `include%5B%5D` and `include` are one). Under keep every other
 * parameter's value becomes `[FILTERED]`; under pseudonymise every other parameter goes, and a value
 * of a kind other than its own goes too (`page=bookmark:…` is not a number).
 */
export const QUERY_ALLOWLIST: ReadonlyMap<string, ParameterValue> = new Map<string, ParameterValue>([
  // paging, sorting, what to include (the API's common parameters). Not `state`: Canvas's `state[]` filter,
  // but also OAuth's state, a per-login nonce. Not `filter`: conversations' `filter[]=user_5` names a user.
  ['page', 'word'], ['per_page', 'word'], ['sort', 'word'], ['order', 'word'], ['include', 'word'],
  ['includes', 'word'], ['exclude', 'word'], ['type', 'word'], ['workflow_state', 'word'],
  ['enrollment_type', 'word'], ['enrollment_state', 'word'], ['scope', 'word'],
  ['only_active_enrollments', 'word'], ['published', 'word'], ['view', 'word'], ['display', 'word'],
  ['format', 'word'], ['preview', 'word'], ['download', 'word'], ['download_frd', 'word'], ['inline', 'word'],
  ['wrap', 'word'], ['fd_cookie_set', 'word'], ['embedded', 'word'], ['is_announcement', 'word'],
  ['include_new_entries', 'word'], ['include_enrollment_state', 'word'], ['include_context_card_info', 'word'],
  ['task', 'word'], ['grant_type', 'word'], ['response_type', 'word'], ['import_type', 'word'], ['extension', 'word'],
  ['override_sis_stickiness', 'word'], ['enable_sis_reactivation', 'word'], ['batch_mode', 'word'],
  ['enrollment[type]', 'word'], ['enrollment[enrollment_state]', 'word'], ['enrollment[notify]', 'word'],
  ['enrollment[limit_privileges_to_course_section]', 'word'],
  ['course_section[restrict_enrollments_to_section_dates]', 'word'],
  // ids of things
  ['module_item_id', 'id'], ['assignment_id', 'id'], ['course_id', 'id'], ['quiz_id', 'id'], ['section_id', 'id'],
  ['group_id', 'id'], ['enrollment_term_id', 'id'], ['grading_period_id', 'id'], ['target_assignment_id', 'id'],
  ['target_course_id', 'id'], ['attachment_id', 'id'], ['discussion_topic_id', 'id'], ['page_id', 'id'],
  ['account_id', 'id'], ['assignment_ids', 'id'], ['course_ids', 'id'],
  // dates
  ['start_date', 'time'], ['end_date', 'time'], ['start_time', 'time'], ['end_time', 'time'],
  ['course_section[start_at]', 'time'], ['course_section[end_at]', 'time'],
  // users: the value is a person
  ['user_id', 'user'], ['user_ids', 'user'], ['as_user_id', 'user'], ['student_id', 'user'], ['student_ids', 'user'],
  ['observed_user_id', 'user'], ['grader_id', 'user'], ['enrollment[user_id]', 'user'],
]);

/** `:id` in USER_POSITIONS: any Canvas id (digits, `shard~id`). */
export const ANY_ID = ':id';

/**
 * Where Canvas puts a user's id in a route: the id right after one of these runs of segments (route
 * words; `:id` any id) is a user's, and pseudonymise gives its pseudonym. Every other id is a thing's
 * and is kept. From Canvas's routes: `users/:id` (also in `courses/:id/users/:id`, `peer_reviews/users/:id`,
 * `outcomes/users/:id`, `analytics/users/:id`), the profile `about/:id`, `audit/grade_change/students/:id`
 * and `/graders/:id`, `users/:id/observees/:id`, `accounts/:id/admins/:user_id`, a student's grades
 * `courses/:id/grades/:user_id`, a student's submission `assignments/:id/submissions/:user_id` (API and
 * UI; a quiz's `quizzes/:id/submissions/:id` is a quiz submission's own id), `attendance/:user_id`,
 * `users/:id/merge_into/:user_id`.
 */
export const USER_POSITIONS: readonly (readonly string[])[] = [
  ['users'], ['user'], ['about'], ['students'], ['graders'], ['observees'], ['observers'], ['admins'],
  ['attendance'], ['merge_into'],
  ['courses', ANY_ID, 'grades'],
  ['assignments', ANY_ID, 'submissions'],
];
