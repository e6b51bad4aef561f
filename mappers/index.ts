// The registry: every supported Canvas event_name and its mapper. Each domain module exports its
// mappers; every exported Mapper is registered.
import * as account from './account.js';
import * as asset from './asset.js';
import * as assignment from './assignment.js';
import * as attachment from './attachment.js';
import * as conversation from './conversation.js';
import * as course from './course.js';
import * as discussion from './discussion.js';
import * as enrollment from './enrollment.js';
import * as grades from './grades.js';
import * as group from './group.js';
import * as lti from './lti.js';
import type { Mapper } from './mapper.js';
import * as migration from './migration.js';
import * as module_ from './module.js';
import * as outcome from './outcome.js';
import * as quiz from './quiz.js';
import * as section from './section.js';
import * as session from './session.js';
import * as sis from './sis.js';
import * as submission from './submission.js';
import * as user from './user.js';
import * as wiki from './wiki.js';

const DOMAINS = [account, asset, assignment, attachment, conversation, course, discussion, enrollment, grades, group, lti, migration, module_, outcome, quiz, section, session, sis, submission, user, wiki];

const isMapper = (v: unknown): v is Mapper =>
  v !== null && typeof v === 'object' && typeof (v as Mapper).eventName === 'string' && typeof (v as Mapper).map === 'function';

export const MAPPERS: ReadonlyMap<string, Mapper> = new Map(
  DOMAINS.flatMap((d) => Object.values(d).filter(isMapper))
    .sort((a, b) => a.eventName.localeCompare(b.eventName))
    .map((m) => [m.eventName, m]),
);

/**
 * The 32 event types Instructure emits as Caliper: their output is Instructure's, documented
 * departures included. Every other type is ours and must be spec-valid Caliper with no departure.
 */
export const INSTRUCTURE_EVENT_NAMES: ReadonlySet<string> = new Set([
  'asset_accessed', 'assignment_created', 'assignment_updated', 'assignment_override_created', 'assignment_override_updated',
  'attachment_created', 'attachment_updated', 'attachment_deleted', 'course_created', 'course_updated', 'syllabus_updated',
  'discussion_entry_created', 'discussion_topic_created', 'enrollment_created', 'enrollment_updated', 'enrollment_state_created',
  'enrollment_state_updated', 'grade_change', 'group_category_created', 'group_created', 'group_membership_created', 'logged_in',
  'logged_out', 'quiz_created', 'quiz_updated', 'quiz_submitted', 'submission_created', 'submission_updated',
  'user_account_association_created', 'wiki_page_created', 'wiki_page_updated', 'wiki_page_deleted',
]);
