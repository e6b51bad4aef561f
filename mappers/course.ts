// course_created/updated, syllabus_updated
import { body, Id } from '../src/raw.js';
import { canvasExtensions, id, optId } from './builders.js';
import { courseUrn, userUrn } from './ids.js';
import { mapper } from './mapper.js';

const CourseBody = body({ course_id: Id });

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
