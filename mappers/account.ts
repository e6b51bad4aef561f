// user_account_association_created
import { body, Id } from '../src/raw.js';
import { canvasExtensions, id, optId, time } from './builders.js';
import { urn, userUrn } from './ids.js';
import { mapper } from './mapper.js';

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
