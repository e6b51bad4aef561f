// group_category_created/updated, group_created/updated, group_membership_created/updated
// (the *_updated mappers are ours: Instructure emits no Caliper for them)
import { body, Id, OptText } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, optId } from './builders.js';
import { urn, userUrn } from './ids.js';
import { mapper } from './mapper.js';

/** The group category a group belongs to, as Instructure nests it (`isPartOf`). */
function category(b: Record<string, unknown>) {
  const categoryId = optId(b.group_category_id, 'body.group_category_id');
  return categoryId && { id: urn('group_category', categoryId), type: 'Entity', name: b.group_category_name };
}

/** The group category: Instructure's generic Entity in its own type; in ours an Organization (a set of groups), as IMS's 1.1 schema wants a typed object. */
function groupCategory(b: Record<string, unknown>, fields: Record<string, unknown> = {}, type: 'Entity' | 'Organization' = 'Entity') {
  const entityId = id(b.group_category_id, 'body.group_category_id');
  return { id: urn('group_category', entityId), type, name: b.group_category_name, extensions: canvasExtensions({ ...fields, entity_id: entityId }) };
}

function group(b: Record<string, unknown>, fields: Record<string, unknown> = {}) {
  const entityId = id(b.group_id, 'body.group_id');
  return { id: urn('group', entityId), type: 'Group', name: b.group_name, extensions: canvasExtensions({ ...fields, entity_id: entityId }) };
}

export const groupCategoryCreated = mapper({
  eventName: 'group_category_created',
  type: 'Event',
  action: 'Created',
  objectType: 'Entity',
  body: body({ group_category_id: Id, group_category_name: OptText }),
  map: ({ body: b }) => ({ object: groupCategory(b) }),
});

export const groupCategoryUpdated = mapper({
  eventName: 'group_category_updated',
  type: 'Event',
  action: 'Modified',
  objectType: 'Organization',
  body: body({ group_category_id: Id, group_category_name: OptText }),
  map: ({ body: b }) => ({ object: groupCategory(b, bodyFields(b, ['group_category_id', 'group_category_name']), 'Organization') }),
});

export const groupCreated = mapper({
  eventName: 'group_created',
  type: 'Event',
  action: 'Created',
  objectType: 'Group',
  body: body({ group_id: Id, group_name: OptText, group_category_name: OptText }),
  map: ({ body: b }) => ({ object: { ...group(b), isPartOf: category(b) } }),
});

/** Caliper's Group has no `isPartOf`: the category stays in the extensions (group_category_id/name). */
export const groupUpdated = mapper({
  eventName: 'group_updated',
  type: 'Event',
  action: 'Modified',
  objectType: 'Group',
  body: body({ group_id: Id, group_name: OptText }),
  map: ({ body: b }) => ({ object: group(b, bodyFields(b, ['group_id', 'group_name'])) }),
});

export const groupMembershipCreated = mapper({
  eventName: 'group_membership_created',
  type: 'Event',
  action: 'Created',
  objectType: 'Membership',
  body: body({ group_membership_id: Id, group_id: Id, user_id: Id, group_name: OptText, group_category_name: OptText }),
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

/** Canvas's group membership states that say whether the membership is in force (invited/requested say neither). */
const MEMBERSHIP_STATUS = new Map([['accepted', 'Active'], ['deleted', 'Inactive'], ['rejected', 'Inactive']]);

export const groupMembershipUpdated = mapper({
  eventName: 'group_membership_updated',
  type: 'Event',
  action: 'Modified',
  objectType: 'Membership',
  body: body({ group_membership_id: Id, group_id: Id, user_id: Id, group_name: OptText, workflow_state: OptText }),
  map: ({ body: b }) => {
    const entityId = id(b.group_membership_id, 'body.group_membership_id');
    return {
      object: {
        id: urn('group_membership', entityId),
        type: 'Membership',
        extensions: canvasExtensions({ ...bodyFields(b, ['group_membership_id', 'group_id', 'user_id', 'group_name']), entity_id: entityId }),
        member: { id: userUrn(id(b.user_id, 'body.user_id')), type: 'Person' },
        organization: { id: urn('group', id(b.group_id, 'body.group_id')), type: 'Group', name: b.group_name },
        status: b.workflow_state ? MEMBERSHIP_STATUS.get(b.workflow_state) : undefined,
      },
    };
  },
});
