// The registry: every supported Canvas event_name and its mapper, grouped by Canvas domain.
import { userAccountAssociationCreated } from './account.js';
import { assetAccessed } from './asset.js';
import { assignmentCreated, assignmentOverrideCreated, assignmentOverrideUpdated, assignmentUpdated } from './assignment.js';
import { attachmentCreated, attachmentDeleted, attachmentUpdated } from './attachment.js';
import { courseCreated, courseUpdated, syllabusUpdated } from './course.js';
import { discussionEntryCreated, discussionTopicCreated } from './discussion.js';
import { enrollmentCreated, enrollmentStateCreated, enrollmentStateUpdated, enrollmentUpdated } from './enrollment.js';
import { groupCategoryCreated, groupCreated, groupMembershipCreated } from './group.js';
import type { Mapper } from './mapper.js';
import { quizCreated, quizSubmitted, quizUpdated } from './quiz.js';
import { loggedIn, loggedOut } from './session.js';
import { gradeChange, submissionCreated, submissionUpdated } from './submission.js';
import { wikiPageCreated, wikiPageDeleted, wikiPageUpdated } from './wiki.js';

const ALL: Mapper[] = [
  assetAccessed,
  assignmentCreated,
  assignmentUpdated,
  assignmentOverrideCreated,
  assignmentOverrideUpdated,
  attachmentCreated,
  attachmentUpdated,
  attachmentDeleted,
  courseCreated,
  courseUpdated,
  syllabusUpdated,
  discussionEntryCreated,
  discussionTopicCreated,
  enrollmentCreated,
  enrollmentUpdated,
  enrollmentStateCreated,
  enrollmentStateUpdated,
  gradeChange,
  groupCategoryCreated,
  groupCreated,
  groupMembershipCreated,
  loggedIn,
  loggedOut,
  quizCreated,
  quizUpdated,
  quizSubmitted,
  submissionCreated,
  submissionUpdated,
  userAccountAssociationCreated,
  wikiPageCreated,
  wikiPageUpdated,
  wikiPageDeleted,
] as Mapper[];

export const MAPPERS: ReadonlyMap<string, Mapper> = new Map(
  [...ALL].sort((a, b) => a.eventName.localeCompare(b.eventName)).map((m) => [m.eventName, m]),
);
