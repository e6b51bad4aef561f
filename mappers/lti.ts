// lti_resource_link_created/updated (ours: Instructure emits no Caliper for them). See docs/mapping-rules.md.
import { body, Id } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, optId } from './builders.js';
import { courseUrn, urn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const ResourceLinkBody = body({ resource_link_id: Id });

/** The course or assignment the link belongs to (Canvas's link contexts). */
function linkContext(b: Record<string, unknown>) {
  const contextId = optId(b.context_id, 'body.context_id');
  if (contextId === undefined) return undefined;
  if (b.context_type === 'Course') return { id: courseUrn(contextId), type: 'CourseOffering' };
  if (b.context_type === 'Assignment') return { id: urn('assignment', contextId), type: 'AssignableDigitalResource' };
  return undefined;
}

/** A resource link is content a tool provides through LTI (Caliper 1.2's LtiLink, a DigitalResource). */
function resourceLinkMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof ResourceLinkBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'DigitalResource',
    body: ResourceLinkBody,
    map: ({ body: b }) => {
      const entityId = id(b.resource_link_id, 'body.resource_link_id');
      return {
        object: {
          id: urn('lti/resource_link', entityId),
          type: 'DigitalResource',
          extensions: canvasExtensions({ ...bodyFields(b, ['resource_link_id']), entity_id: entityId }),
          isPartOf: linkContext(b),
        },
      };
    },
  });
}

export const ltiResourceLinkCreated = resourceLinkMapper('lti_resource_link_created', 'Created');
export const ltiResourceLinkUpdated = resourceLinkMapper('lti_resource_link_updated', 'Modified');
