// conversation_created, conversation_forwarded, conversation_message_created (ours: Instructure emits no Caliper
// for them). See docs/mapping-rules.md.
import { body, Id, OptId, OptTime } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, optId, time } from './builders.js';
import { urn, userUrn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const ConversationBody = body({ conversation_id: Id, updated_at: OptTime });

/** A conversation (an Inbox thread) is the Thread its messages are part of. */
function conversationMapper(eventName: string, action: 'Created' | 'Shared'): Mapper<typeof ConversationBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'Thread',
    body: ConversationBody,
    map: ({ body: b }) => {
      const entityId = id(b.conversation_id, 'body.conversation_id');
      return {
        object: {
          id: urn('conversation', entityId),
          type: 'Thread',
          dateModified: time(b.updated_at, 'body.updated_at'),
          extensions: canvasExtensions({ ...bodyFields(b, ['conversation_id', 'updated_at']), entity_id: entityId }),
        },
      };
    },
  });
}

export const conversationCreated = conversationMapper('conversation_created', 'Created');
// Canvas emits it when users are added to a conversation (forwarding adds its recipients): the thread is shared with them.
export const conversationForwarded = conversationMapper('conversation_forwarded', 'Shared');

export const conversationMessageCreated = mapper({
  eventName: 'conversation_message_created',
  type: 'MessageEvent',
  action: 'Posted',
  objectType: 'Message',
  body: body({ message_id: Id, conversation_id: OptId, author_id: OptId, created_at: OptTime }),
  map: ({ body: b }) => {
    const entityId = id(b.message_id, 'body.message_id');
    const conversationId = optId(b.conversation_id, 'body.conversation_id');
    const author = optId(b.author_id, 'body.author_id');
    return {
      object: {
        id: urn('conversation_message', entityId),
        type: 'Message',
        dateCreated: time(b.created_at, 'body.created_at'),
        extensions: canvasExtensions({ ...bodyFields(b, ['message_id', 'conversation_id', 'author_id', 'created_at']), entity_id: entityId }),
        creators: author === undefined ? undefined : [{ id: userUrn(author), type: 'Person' }],
        isPartOf: conversationId && { id: urn('conversation', conversationId), type: 'Thread' },
      },
      // A reply by email is added by a job: the body names its author.
      actorUserId: author,
    };
  },
});
