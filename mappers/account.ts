// user_account_association_created; account_created/updated, account_notification_created (ours)
import { body, Id, OptId, OptText } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, optId, time } from './builders.js';
import { urn, userUrn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

export const userAccountAssociationCreated = mapper({
  eventName: 'user_account_association_created',
  type: 'Event',
  action: 'Created',
  objectType: 'Entity',
  body: body({ account_id: Id }),
  map: ({ body: b }) => {
    const user = optId(b.user_id, 'body.user_id');
    return {
      object: {
        id: urn('account', id(b.account_id, 'body.account_id')),
        type: 'Entity',
        dateCreated: time(b.created_at, 'body.created_at'),
        dateModified: time(b.updated_at, 'body.updated_at'),
        extensions: canvasExtensions({ is_admin: b.is_admin, user_id: user && userUrn(user) }),
      },
    };
  },
});

const AccountBody = body({ account_id: Id, name: OptText, parent_account_id: OptId });

function accountMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof AccountBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'Organization',
    body: AccountBody,
    map: ({ body: b }) => {
      const entityId = id(b.account_id, 'body.account_id');
      const parentId = optId(b.parent_account_id, 'body.parent_account_id');
      return {
        object: {
          id: urn('account', entityId),
          type: 'Organization',
          name: b.name,
          extensions: canvasExtensions({ ...bodyFields(b, ['account_id', 'name', 'parent_account_id']), entity_id: entityId }),
          subOrganizationOf: parentId && { id: urn('account', parentId), type: 'Organization' },
        },
      };
    },
  });
}

export const accountCreated = accountMapper('account_created', 'Created');
export const accountUpdated = accountMapper('account_updated', 'Modified');

/** A global announcement: a Message (subject, HTML body) that an admin posts to the account's users. */
export const accountNotificationCreated = mapper({
  eventName: 'account_notification_created',
  type: 'MessageEvent',
  action: 'Posted',
  objectType: 'Message',
  body: body({ account_notification_id: Id, subject: OptText, message: OptText }),
  map: ({ body: b }) => {
    const entityId = id(b.account_notification_id, 'body.account_notification_id');
    return {
      object: {
        id: urn('account_notification', entityId),
        type: 'Message',
        name: b.subject,
        extensions: canvasExtensions({ ...bodyFields(b, ['account_notification_id', 'subject', 'message']), entity_id: entityId }),
        body: b.message,
      },
    };
  },
});
