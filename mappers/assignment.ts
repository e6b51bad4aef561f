// assignment_created/updated, assignment_override_created/updated
import { body, Id } from '../src/raw.js';
import { canvasExtensions, id, optId, time } from './builders.js';
import { urn } from './ids.js';
import { mapper } from './mapper.js';

const AssignmentBody = body({ assignment_id: Id });
type AssignmentBody = { [k: string]: unknown } & { assignment_id: string | number };

function assignment(b: AssignmentBody, dated: 'dateCreated' | 'dateModified', withState: boolean) {
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

const OverrideBody = body({ assignment_override_id: Id });
type OverrideBody = { [k: string]: unknown } & { assignment_override_id: string | number };

function assignmentOverride(b: OverrideBody) {
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
