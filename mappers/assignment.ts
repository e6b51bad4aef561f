// assignment_created/updated, assignment_override_created/updated; assignment_group_created/updated (ours:
// Instructure emits no Caliper for them)
import { body, Id, OptNumber, OptText, type Body } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, optId, time } from './builders.js';
import { urn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const AssignmentBody = body({ assignment_id: Id, title: OptText, description: OptText, points_possible: OptNumber });

function assignment(b: Body<typeof AssignmentBody>, dated: 'dateCreated' | 'dateModified', withState: boolean) {
  const entityId = id(b.assignment_id, 'body.assignment_id');
  return {
    id: urn('assignment', entityId),
    type: 'AssignableDigitalResource',
    name: b.title,
    description: b.description,
    [dated]: time(b.updated_at, 'body.updated_at'),
    extensions: canvasExtensions({
      lock_at: time(b.lock_at, 'body.lock_at'),
      workflow_state: withState ? b.workflow_state : undefined,
      entity_id: entityId,
    }),
    dateToShow: time(b.unlock_at, 'body.unlock_at'),
    dateToSubmit: time(b.due_at, 'body.due_at'),
    maxScore: b.points_possible,
  };
}

export const assignmentCreated = mapper({
  eventName: 'assignment_created',
  type: 'Event',
  action: 'Created',
  objectType: 'AssignableDigitalResource',
  body: AssignmentBody,
  map: (e) => ({ object: assignment(e.body, 'dateCreated', false) }),
});

export const assignmentUpdated = mapper({
  eventName: 'assignment_updated',
  type: 'Event',
  action: 'Modified',
  objectType: 'AssignableDigitalResource',
  body: AssignmentBody,
  map: (e) => ({ object: assignment(e.body, 'dateModified', true) }),
});

const OverrideBody = body({ assignment_override_id: Id, title: OptText });

function assignmentOverride(b: Body<typeof OverrideBody>) {
  const entityId = id(b.assignment_override_id, 'body.assignment_override_id');
  return {
    id: urn('assignment_override', entityId),
    type: 'Entity',
    name: b.title,
    extensions: canvasExtensions({
      lock_at: time(b.lock_at, 'body.lock_at'),
      entity_id: entityId,
      assignment_id: optId(b.assignment_id, 'body.assignment_id'),
      all_day: b.all_day,
      all_day_date: time(b.all_day_date, 'body.all_day_date'),
      type: b.type,
      course_section_id: optId(b.course_section_id, 'body.course_section_id'),
      group_id: optId(b.group_id, 'body.group_id'),
      workflow_state: b.workflow_state,
    }),
    dateToShow: time(b.unlock_at, 'body.unlock_at'),
    dateToSubmit: time(b.due_at, 'body.due_at'),
  };
}

export const assignmentOverrideCreated = mapper({
  eventName: 'assignment_override_created',
  type: 'Event',
  action: 'Created',
  objectType: 'Entity',
  body: OverrideBody,
  map: (e) => ({ object: assignmentOverride(e.body) }),
});

export const assignmentOverrideUpdated = mapper({
  eventName: 'assignment_override_updated',
  type: 'Event',
  action: 'Modified',
  objectType: 'Entity',
  body: OverrideBody,
  map: (e) => ({ object: assignmentOverride(e.body) }),
});

const AssignmentGroupBody = body({ assignment_group_id: Id, name: OptText });

/** An assignment group is the collection of the assignments it weights together. */
function assignmentGroupMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof AssignmentGroupBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'DigitalResourceCollection',
    body: AssignmentGroupBody,
    map: ({ body: b }) => {
      const entityId = id(b.assignment_group_id, 'body.assignment_group_id');
      return {
        object: {
          id: urn('assignment_group', entityId),
          type: 'DigitalResourceCollection',
          name: b.name,
          extensions: canvasExtensions({ ...bodyFields(b, ['assignment_group_id', 'name']), entity_id: entityId }),
        },
      };
    },
  });
}

export const assignmentGroupCreated = assignmentGroupMapper('assignment_group_created', 'Created');
export const assignmentGroupUpdated = assignmentGroupMapper('assignment_group_updated', 'Modified');
