// group_category_created, group_created, group_membership_created
import { body, Id } from '../src/raw.js';
import { canvasExtensions, id, optId } from './builders.js';
import { urn, userUrn } from './ids.js';
import { mapper } from './mapper.js';

/** The group category a group belongs to, as Instructure nests it (`isPartOf`). */
function category(b: Record<string, unknown>) {
  const categoryId = optId(b.group_category_id, 'body.group_category_id');
  return categoryId && { id: urn('group_category', categoryId), type: 'Entity', name: b.group_category_name };
}

export const groupCategoryCreated = mapper({
  eventName: 'group_category_created',
  type: 'Event',
  action: 'Created',
  objectType: 'Entity',
  body: body({ group_category_id: Id }),
  map: ({ body: b }) => {
    const entityId = id(b.group_category_id, 'body.group_category_id');
    return {
      object: { id: urn('group_category', entityId), type: 'Entity', name: b.group_category_name, extensions: canvasExtensions({ entity_id: entityId }) },
    };
  },
});

export const groupCreated = mapper({
  eventName: 'group_created',
  type: 'Event',
  action: 'Created',
  objectType: 'Group',
  body: body({ group_id: Id }),
  map: ({ body: b }) => {
    const entityId = id(b.group_id, 'body.group_id');
    return {
      object: {
        id: urn('group', entityId),
        type: 'Group',
        name: b.group_name,
        extensions: canvasExtensions({ entity_id: entityId }),
        isPartOf: category(b),
      },
    };
  },
});

export const groupMembershipCreated = mapper({
  eventName: 'group_membership_created',
  type: 'Event',
  action: 'Created',
  objectType: 'Membership',
  body: body({ group_membership_id: Id, group_id: Id, user_id: Id }),
  map: ({ body: b }) => {
    const entityId = id(b.group_membership_id, 'body.group_membership_id');
    return {
      object: {
        id: urn('group_membership', entityId),
        type: 'Membership',
        member: { id: userUrn(id(b.user_id, 'body.user_id')), type: 'Person' },
        organization: {
          id: urn('group', id(b.group_id, 'body.group_id')),
          type: 'Group',
          name: b.group_name,
          // Instructure puts the membership's id here (not the group's); we match its output.
          extensions: canvasExtensions({ entity_id: entityId }),
          isPartOf: category(b),
        },
      },
    };
  },
});
