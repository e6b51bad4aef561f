// content_migration_started/completed, master_migration_started, outcomes.retry_outcome_alignment_clone
// (ours: Instructure emits no Caliper for them). See docs/mapping-rules.md. The object is the content the
// migration moves (a content package being imported, the blueprint's content being synced): a DigitalResource,
// as IMS's 1.1 schema wants a typed entity for an Event's object (the type caliper-1.1 gives these kinds too).
import { body, Id } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, ltiId, optId } from './builders.js';
import { urn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const ContentMigrationBody = body({ content_migration_id: Id });

function contentMigrationMapper(eventName: string, action: 'Started' | 'Completed'): Mapper<typeof ContentMigrationBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'DigitalResource',
    body: ContentMigrationBody,
    map: ({ body: b }) => {
      const entityId = id(b.content_migration_id, 'body.content_migration_id');
      return {
        object: {
          id: urn('content_migration', entityId),
          type: 'DigitalResource',
          extensions: canvasExtensions({ ...bodyFields(b, ['content_migration_id']), entity_id: entityId }),
        },
      };
    },
  });
}

export const contentMigrationStarted = contentMigrationMapper('content_migration_started', 'Started');
export const contentMigrationCompleted = contentMigrationMapper('content_migration_completed', 'Completed');

/** A blueprint sync starting; the blueprint course is the group. */
export const masterMigrationStarted = mapper({
  eventName: 'master_migration_started',
  type: 'Event',
  action: 'Started',
  objectType: 'DigitalResource',
  body: body({ master_migration_id: Id }),
  map: ({ body: b }) => {
    const entityId = id(b.master_migration_id, 'body.master_migration_id');
    const courseId = optId(b.blueprint_course_id, 'body.blueprint_course_id');
    return {
      object: {
        id: urn('master_courses/master_migration', entityId),
        type: 'DigitalResource',
        extensions: canvasExtensions({ ...bodyFields(b, ['master_migration_id']), entity_id: entityId }),
      },
      context: courseId === undefined ? undefined : { type: 'Course', id: courseId },
    };
  },
});

/**
 * A user retried cloning a course copy's outcome alignments onto an assignment. Canvas names the
 * target assignment and course only by their LTI ids, so those are the ids (kinds named after the
 * Canvas fields); the process is restarted, hence Restarted.
 */
export const outcomesRetryOutcomeAlignmentClone = mapper({
  eventName: 'outcomes.retry_outcome_alignment_clone',
  type: 'Event',
  action: 'Restarted',
  objectType: 'AssignableDigitalResource',
  body: body({}),
  map: ({ body: b }) => {
    const link = ltiId(b.new_assignment_resource_link_id, 'body.new_assignment_resource_link_id');
    const course = b.new_course_resource_link_id == null ? undefined : ltiId(b.new_course_resource_link_id, 'body.new_course_resource_link_id');
    return {
      object: {
        id: urn('lti_resource_link_id', link),
        type: 'AssignableDigitalResource',
        isPartOf: course && { id: urn('lti_context_id', course), type: 'CourseOffering' },
        extensions: canvasExtensions(bodyFields(b)),
      },
    };
  },
});
