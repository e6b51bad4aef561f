// course_created/updated, syllabus_updated; course_completed, course_progress (ours)
import { body, Id, OptId, OptText, z } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, membership, optId } from './builders.js';
import { courseUrn, urn, userUrn } from './ids.js';
import { mapper } from './mapper.js';

const CourseBody = body({ course_id: Id, name: OptText, syllabus_body: OptText });

export const courseCreated = mapper({
  eventName: 'course_created',
  type: 'Event',
  action: 'Created',
  objectType: 'CourseOffering',
  body: CourseBody,
  map: ({ body: b }) => {
    const entityId = id(b.course_id, 'body.course_id');
    return { object: { id: courseUrn(entityId), type: 'CourseOffering', name: b.name, extensions: canvasExtensions({ entity_id: entityId }) } };
  },
});

export const courseUpdated = mapper({
  eventName: 'course_updated',
  type: 'Event',
  action: 'Modified',
  objectType: 'CourseOffering',
  body: CourseBody,
  map: ({ body: b }) => {
    const entityId = id(b.course_id, 'body.course_id');
    return {
      object: {
        id: courseUrn(entityId),
        type: 'CourseOffering',
        name: b.name,
        extensions: canvasExtensions({ entity_id: entityId, workflow_state: b.workflow_state }),
      },
    };
  },
});

/** The syllabus is a Document named by its course; Instructure gives the membership in that course but no group. */
export const syllabusUpdated = mapper({
  eventName: 'syllabus_updated',
  type: 'Event',
  action: 'Modified',
  objectType: 'Document',
  body: CourseBody,
  map: ({ metadata: m, body: b }) => {
    const courseId = id(b.course_id, 'body.course_id');
    const editor = optId(m.user_id, 'metadata.user_id');
    return {
      object: {
        id: courseUrn(courseId),
        type: 'Document',
        name: 'Syllabus',
        creators: editor === undefined ? undefined : [{ id: userUrn(editor), type: 'Person' }],
        body: b.syllabus_body,
      },
      context: { type: 'Course', id: courseId },
      omitGroup: true,
    };
  },
});

// A module progression's course, student and progress, each an object in the body.
const ProgressBody = body({
  course: z.looseObject({ id: Id, name: OptText, account_id: OptId }),
  user: z.looseObject({ id: Id, name: OptText }),
});
type ProgressBody = z.infer<typeof ProgressBody>;

/** The course as an Organization under its account; the course fields Caliper has no term for stay under `course`. */
function progressCourse(b: ProgressBody) {
  const accountId = optId(b.course.account_id, 'body.course.account_id');
  return {
    id: courseUrn(id(b.course.id, 'body.course.id')),
    type: 'CourseOffering',
    name: b.course.name,
    subOrganizationOf: accountId && { id: urn('account', accountId), type: 'Organization' },
  };
}
const courseRest = (b: ProgressBody) => bodyFields(b.course, ['id', 'name', 'account_id'], 'body.course');

/** The student completed every module requirement of the course. */
export const courseCompleted = mapper({
  eventName: 'course_completed',
  type: 'Event',
  action: 'Completed',
  objectType: 'CourseOffering',
  body: ProgressBody,
  map: ({ body: b }) => {
    const courseId = id(b.course.id, 'body.course.id');
    return {
      object: {
        ...progressCourse(b),
        // `user` stays whole: the actor may be named by metadata's global id, not this one.
        extensions: canvasExtensions({ ...bodyFields(b, ['course']), course: courseRest(b), entity_id: courseId }),
      },
      context: { type: 'Course', id: courseId },
      // A module progression job completes the course for the student it names.
      actorUserId: id(b.user.id, 'body.user.id'),
    };
  },
});

/**
 * Progress is the state of the student's membership in the course (Caliper has no progress entity):
 * Canvas modified that membership. Not the course itself (course_updated), not the user (user_updated).
 */
export const courseProgress = mapper({
  eventName: 'course_progress',
  type: 'Event',
  action: 'Modified',
  objectType: 'Membership',
  body: ProgressBody,
  map: ({ body: b }) => {
    const courseId = id(b.course.id, 'body.course.id');
    const course = progressCourse(b);
    const student = { id: userUrn(id(b.user.id, 'body.user.id')), type: 'Person', name: b.user.name };
    return {
      object: {
        ...membership({ type: 'Course', id: courseId }, course, student, undefined),
        member: student,
        organization: course,
        extensions: canvasExtensions({
          ...bodyFields(b, ['course', 'user']),
          course: courseRest(b),
          user: bodyFields(b.user, ['id', 'name'], 'body.user'),
        }),
      },
      context: { type: 'Course', id: courseId },
    };
  },
});
