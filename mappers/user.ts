// user_created/updated (ours: Instructure emits no Caliper for them). See docs/mapping-rules.md.
import { body, Id, OptText, OptTime } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, time } from './builders.js';
import { userUrn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const UserBody = body({ user_id: Id, name: OptText, created_at: OptTime, updated_at: OptTime });

function userMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof UserBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'Person',
    body: UserBody,
    map: ({ body: b }) => {
      const entityId = id(b.user_id, 'body.user_id');
      return {
        object: {
          id: userUrn(entityId),
          type: 'Person',
          name: b.name,
          dateCreated: time(b.created_at, 'body.created_at'),
          dateModified: time(b.updated_at, 'body.updated_at'),
          extensions: canvasExtensions({ ...bodyFields(b, ['user_id', 'name', 'created_at', 'updated_at']), entity_id: entityId }),
        },
      };
    },
  });
}

export const userCreated = userMapper('user_created', 'Created');
export const userUpdated = userMapper('user_updated', 'Modified');
