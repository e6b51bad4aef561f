// discussion_topic_created, discussion_entry_created; discussion_topic_updated, discussion_entry_submitted (ours:
// Instructure emits no Caliper for them)
import { body, Id, OptId, OptText, OptTime } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, optId, time } from './builders.js';
import { urn, userUrn } from './ids.js';
import { mapper } from './mapper.js';

export const discussionTopicCreated = mapper({
  eventName: 'discussion_topic_created',
  type: 'ThreadEvent',
  action: 'Created',
  objectType: 'Thread',
  body: body({ discussion_topic_id: Id, title: OptText }),
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
  body: body({ discussion_entry_id: Id, text: OptText }),
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

export const discussionTopicUpdated = mapper({
  eventName: 'discussion_topic_updated',
  type: 'Event',
  action: 'Modified',
  objectType: 'Thread',
  body: body({ discussion_topic_id: Id, title: OptText, body: OptText, updated_at: OptTime }),
  map: ({ body: b }) => {
    const entityId = id(b.discussion_topic_id, 'body.discussion_topic_id');
    return {
      object: {
        id: urn('discussion_topic', entityId),
        type: 'Thread',
        name: b.title,
        description: b.body,
        dateModified: time(b.updated_at, 'body.updated_at'),
        extensions: canvasExtensions({ ...bodyFields(b, ['discussion_topic_id', 'title', 'body', 'updated_at']), entity_id: entityId }),
      },
    };
  },
});

const ENTRY_FIELDS = ['discussion_entry_id', 'discussion_topic_id', 'parent_discussion_entry_id', 'user_id', 'text', 'created_at'];

/**
 * An entry posted through the API (Canvas emits it for every topic; assignment and submission only in a graded
 * one). It is the Message posted; in a graded topic, posting it submits the student's work, so the submission
 * is the Attempt the post generated.
 */
export const discussionEntrySubmitted = mapper({
  eventName: 'discussion_entry_submitted',
  type: 'MessageEvent',
  action: 'Posted',
  objectType: 'Message',
  body: body({
    discussion_entry_id: Id,
    discussion_topic_id: OptId,
    parent_discussion_entry_id: OptId,
    user_id: OptId,
    assignment_id: OptId,
    submission_id: OptId,
    text: OptText,
    created_at: OptTime,
  }),
  map: ({ body: b }) => {
    const entityId = id(b.discussion_entry_id, 'body.discussion_entry_id');
    const topicId = optId(b.discussion_topic_id, 'body.discussion_topic_id');
    const parentId = optId(b.parent_discussion_entry_id, 'body.parent_discussion_entry_id');
    const author = optId(b.user_id, 'body.user_id');
    const submissionId = optId(b.submission_id, 'body.submission_id');
    const assignmentId = optId(b.assignment_id, 'body.assignment_id');
    const placed = submissionId === undefined ? ENTRY_FIELDS : [...ENTRY_FIELDS, 'submission_id', 'assignment_id'];
    return {
      object: {
        id: urn('discussion_entry', entityId),
        type: 'Message',
        dateCreated: time(b.created_at, 'body.created_at'),
        extensions: canvasExtensions({ ...bodyFields(b, placed), entity_id: entityId }),
        creators: author === undefined ? undefined : [{ id: userUrn(author), type: 'Person' }],
        isPartOf: topicId && { id: urn('discussion_topic', topicId), type: 'Thread' },
        replyTo: parentId && { id: urn('discussion_entry', parentId), type: 'Message' },
        body: b.text,
      },
      generated:
        submissionId === undefined
          ? undefined
          : {
              id: urn('submission', submissionId),
              type: 'Attempt',
              extensions: canvasExtensions({ entity_id: submissionId }),
              assignee: author && { id: userUrn(author), type: 'Person' },
              assignable: assignmentId && { id: urn('assignment', assignmentId), type: 'AssignableDigitalResource' },
            },
      // A reply made by a job names its author in the body only.
      actorUserId: author,
    };
  },
});
