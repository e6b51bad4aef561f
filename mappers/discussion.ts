// discussion_topic_created, discussion_entry_created
import { body, Id } from '../src/raw.js';
import { canvasExtensions, id, optId } from './builders.js';
import { urn } from './ids.js';
import { mapper } from './mapper.js';

export const discussionTopicCreated = mapper({
  eventName: 'discussion_topic_created',
  type: 'ThreadEvent',
  action: 'Created',
  objectType: 'Thread',
  body: body({ discussion_topic_id: Id }),
  map: ({ body: b }) => {
    const entityId = id(b.discussion_topic_id, 'body.discussion_topic_id');
    return {
      object: {
        id: urn('discussion_topic', entityId),
        type: 'Thread',
        name: b.title,
        extensions: canvasExtensions({ is_announcement: b.is_announcement, entity_id: entityId }),
      },
    };
  },
});

export const discussionEntryCreated = mapper({
  eventName: 'discussion_entry_created',
  type: 'MessageEvent',
  action: 'Posted',
  objectType: 'Message',
  body: body({ discussion_entry_id: Id }),
  map: ({ body: b }) => {
    const entityId = id(b.discussion_entry_id, 'body.discussion_entry_id');
    const topicId = optId(b.discussion_topic_id, 'body.discussion_topic_id');
    return {
      object: {
        id: urn('discussion_entry', entityId),
        type: 'Message',
        extensions: canvasExtensions({ entity_id: entityId }),
        isPartOf: topicId && { id: urn('discussion_topic', topicId), type: 'Thread' },
        body: b.text,
      },
      // An entry made by a job (course copy) names its author in the body.
      actorUserId: optId(b.user_id, 'body.user_id'),
    };
  },
});
