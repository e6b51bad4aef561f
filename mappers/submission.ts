// submission_created/updated, grade_change
import { body, Id } from '../src/raw.js';
import { canvasExtensions, id, isUserGenerated, optId, time, url } from './builders.js';
import { urn, userUrn } from './ids.js';
import { mapper } from './mapper.js';

const SubmissionBody = body({ submission_id: Id, assignment_id: Id });
type SubmissionBody = { [k: string]: unknown } & { submission_id: string | number; assignment_id: string | number };

function submission(b: SubmissionBody, dated: 'dateCreated' | 'dateModified') {
  const entityId = id(b.submission_id, 'body.submission_id');
  const student = optId(b.user_id, 'body.user_id');
  return {
    id: urn('submission', entityId),
    type: 'Attempt',
    [dated]: time(b.updated_at, 'body.updated_at'),
    extensions: canvasExtensions({ submission_type: b.submission_type, url: url(b.url), entity_id: entityId }),
    assignee: student && { id: userUrn(student), type: 'Person' },
    assignable: { id: urn('assignment', id(b.assignment_id, 'body.assignment_id')), type: 'AssignableDigitalResource' },
    count: b.attempt,
    body: b.body,
  };
}

export const submissionCreated = mapper({
  eventName: 'submission_created',
  type: 'AssignableEvent',
  action: 'Submitted',
  objectType: 'Attempt',
  body: SubmissionBody,
  // A submission made through an LTI tool's passback names the student only in the body.
  map: ({ body: b }) => ({ object: submission(b, 'dateCreated'), actorUserId: optId(b.user_id, 'body.user_id') }),
});

export const submissionUpdated = mapper({
  eventName: 'submission_updated',
  type: 'Event',
  action: 'Modified',
  objectType: 'Attempt',
  body: SubmissionBody,
  map: ({ body: b }) => ({ object: submission(b, 'dateModified') }),
});

/** The graded Attempt is both the object and, as a Score, what grading generated. */
export const gradeChange = mapper({
  eventName: 'grade_change',
  type: 'GradeEvent',
  action: 'Graded',
  objectType: 'Attempt',
  body: SubmissionBody,
  map: ({ metadata: m, body: b }) => {
    const entityId = id(b.submission_id, 'body.submission_id');
    const student = optId(b.student_id, 'body.student_id') ?? optId(b.user_id, 'body.user_id');
    const grader = optId(b.grader_id, 'body.grader_id');
    const attempt = {
      id: urn('submission', entityId),
      type: 'Attempt',
      assignee: student && { id: userUrn(student), type: 'Person', extensions: canvasExtensions({ sis_id: b.student_sis_id }) },
      assignable: { id: urn('assignment', id(b.assignment_id, 'body.assignment_id')), type: 'AssignableDigitalResource' },
    };
    return {
      // Instructure names the grader, without the request's user extensions; a job's grade change
      // (auto-grading, posting) keeps the application as the actor.
      actor: grader && isUserGenerated(m) ? { id: userUrn(grader), type: 'Person' } : undefined,
      object: { ...attempt, extensions: canvasExtensions({ grade: b.grade, entity_id: entityId }) },
      generated: {
        id: urn('submission', entityId),
        type: 'Score',
        extensions: canvasExtensions({ grade: b.grade, entity_id: entityId }),
        attempt: { ...attempt, extensions: canvasExtensions({ grade: b.grade }) },
        maxScore: b.points_possible,
        scoreGiven: b.score,
        scoredBy: grader && userUrn(grader),
      },
    };
  },
});
