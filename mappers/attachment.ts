// attachment_created/updated/deleted
import { body, Id, OptText } from '../src/raw.js';
import { canvasExtensions, id, optId, time } from './builders.js';
import { urn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const AttachmentBody = body({ attachment_id: Id, display_name: OptText, content_type: OptText });

function attachmentMapper(eventName: string, action: 'Created' | 'Modified' | 'Deleted'): Mapper<typeof AttachmentBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'Document',
    body: AttachmentBody,
    map: ({ body: b }) => {
      const entityId = id(b.attachment_id, 'body.attachment_id');
      return {
        object: {
          id: urn('attachment', entityId),
          type: 'Document',
          name: b.display_name,
          [action === 'Created' ? 'dateCreated' : 'dateModified']: time(b.updated_at, 'body.updated_at'),
          extensions: canvasExtensions({
            context_id: optId(b.context_id, 'body.context_id'),
            context_type: b.context_type,
            filename: b.filename,
            folder_id: optId(b.folder_id, 'body.folder_id'),
            entity_id: entityId,
          }),
          mediaType: b.content_type,
        },
        // The uploader, when the request itself names no user.
        actorUserId: optId(b.user_id, 'body.user_id'),
      };
    },
  });
}

export const attachmentCreated = attachmentMapper('attachment_created', 'Created');
export const attachmentUpdated = attachmentMapper('attachment_updated', 'Modified');
export const attachmentDeleted = attachmentMapper('attachment_deleted', 'Deleted');
