// course_section_created/updated (ours: Instructure emits no Caliper for them). See docs/mapping-rules.md.
import { body, Id, OptText } from '../src/raw.js';
import { bodyFields, canvasExtensions, id } from './builders.js';
import { courseUrn, urn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const SectionBody = body({ course_section_id: Id, course_id: Id, name: OptText });

function sectionMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof SectionBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'CourseSection',
    body: SectionBody,
    map: ({ body: b }) => {
      const entityId = id(b.course_section_id, 'body.course_section_id');
      const courseId = id(b.course_id, 'body.course_id');
      return {
        object: {
          // Not `…:course:<course>:section:<id>`: cross-listing moves a section to another course, its id must not change.
          id: urn('course_section', entityId),
          type: 'CourseSection',
          name: b.name,
          extensions: canvasExtensions({ ...bodyFields(b, ['course_section_id', 'course_id', 'name']), entity_id: entityId }),
          subOrganizationOf: { id: courseUrn(courseId), type: 'CourseOffering' },
        },
        context: { type: 'Course', id: courseId },
      };
    },
  });
}

export const courseSectionCreated = sectionMapper('course_section_created', 'Created');
export const courseSectionUpdated = sectionMapper('course_section_updated', 'Modified');
