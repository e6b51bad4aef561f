// module_created/updated, module_item_created/updated (ours: Instructure emits no Caliper for them). See docs/mapping-rules.md.
import { body, Id, OptId, OptText } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, optId } from './builders.js';
import { urn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const ModuleBody = body({ module_id: Id, name: OptText });

/** A module is a collection of the course's resources (its items). */
function moduleMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof ModuleBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'DigitalResourceCollection',
    body: ModuleBody,
    map: ({ body: b }) => {
      const entityId = id(b.module_id, 'body.module_id');
      return {
        object: {
          id: urn('context_module', entityId),
          type: 'DigitalResourceCollection',
          name: b.name,
          extensions: canvasExtensions({ ...bodyFields(b, ['module_id', 'name']), entity_id: entityId }),
        },
      };
    },
  });
}

export const moduleCreated = moduleMapper('module_created', 'Created');
export const moduleUpdated = moduleMapper('module_updated', 'Modified');

const ModuleItemBody = body({ module_item_id: Id, module_id: OptId });

/** A module item (Canvas's content tag) is a resource that is part of its module. */
function moduleItemMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof ModuleItemBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'DigitalResource',
    body: ModuleItemBody,
    map: ({ body: b }) => {
      const entityId = id(b.module_item_id, 'body.module_item_id');
      const moduleId = optId(b.module_id, 'body.module_id');
      return {
        object: {
          id: urn('content_tag', entityId),
          type: 'DigitalResource',
          extensions: canvasExtensions({ ...bodyFields(b, ['module_item_id', 'module_id']), entity_id: entityId }),
          isPartOf: moduleId && { id: urn('context_module', moduleId), type: 'DigitalResourceCollection' },
        },
      };
    },
  });
}

export const moduleItemCreated = moduleItemMapper('module_item_created', 'Created');
export const moduleItemUpdated = moduleItemMapper('module_item_updated', 'Modified');
