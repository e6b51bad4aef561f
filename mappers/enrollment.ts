// enrollment_created/updated, enrollment_state_created/updated
import { body, Id } from '../src/raw.js';
import { canvasExtensions, id, optId, time } from './builders.js';
import { courseUrn, sectionUrn, urn, userUrn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const EnrollmentBody = body({ enrollment_id: Id, course_id: Id });

function enrollmentMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof EnrollmentBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'Entity',
    body: EnrollmentBody,
    map: ({ body: b }) => {
      const entityId = id(b.enrollment_id, 'body.enrollment_id');
      const courseId = id(b.course_id, 'body.course_id');
      const sectionId = optId(b.course_section_id, 'body.course_section_id');
      const userId = optId(b.user_id, 'body.user_id');
      return {
        object: {
          id: urn('enrollment', entityId),
          type: 'Entity',
          dateCreated: time(b.created_at, 'body.created_at'),
          dateModified: action === 'Modified' ? time(b.updated_at, 'body.updated_at') : undefined,
          extensions: canvasExtensions({
            course_id: courseUrn(courseId),
            course_section_id: sectionId && sectionUrn(courseId, sectionId),
            limit_privileges_to_course_section: b.limit_privileges_to_course_section,
            type: b.type,
            user_id: userId && userUrn(userId),
            user_name: b.user_name,
            workflow_state: b.workflow_state,
            entity_id: entityId,
          }),
        },
        // The enrollment's own section is the group, as Instructure does.
        context: { type: 'Course', id: courseId, sectionId },
      };
    },
  });
}

export const enrollmentCreated = enrollmentMapper('enrollment_created', 'Created');
export const enrollmentUpdated = enrollmentMapper('enrollment_updated', 'Modified');

const EnrollmentStateBody = body({ enrollment_id: Id });

function enrollmentStateMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof EnrollmentStateBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'Entity',
    body: EnrollmentStateBody,
    map: ({ body: b }) => {
      const entityId = id(b.enrollment_id, 'body.enrollment_id');
      return {
        object: {
          id: urn('enrollment', entityId),
          type: 'Entity',
          extensions: canvasExtensions({
            access_is_current: b.access_is_current,
            restricted_access: b.restricted_access,
            state: b.state,
            state_is_current: b.state_is_current,
            state_valid_until: time(b.state_valid_until, 'body.state_valid_until'),
            entity_id: entityId,
          }),
          startedAtTime: time(b.state_started_at, 'body.state_started_at'),
        },
      };
    },
  });
}

export const enrollmentStateCreated = enrollmentStateMapper('enrollment_state_created', 'Created');
export const enrollmentStateUpdated = enrollmentStateMapper('enrollment_state_updated', 'Modified');
