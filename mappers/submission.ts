// submission_created/updated, grade_change; submission_comment_created, submission_custom_grade_status,
// plagiarism_resubmit, rubric_assessed (ours: Instructure emits no Caliper for them)
import { body, Id, OptId, OptInt, OptNumber, OptText, OptTime, z, type Body } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, isUserGenerated, optId, time, url } from './builders.js';
import { urn, userUrn } from './ids.js';
import { mapper } from './mapper.js';

const SubmissionBody = body({ submission_id: Id, assignment_id: Id, attempt: OptInt, body: OptText, score: OptNumber, points_possible: OptNumber });

function submission(b: Body<typeof SubmissionBody>, dated: 'dateCreated' | 'dateModified') {
  const entityId = id(b.submission_id, 'body.submission_id');
  const student = optId(b.user_id, 'body.user_id');
  return {
    id: urn('submission', entityId),
    type: 'Attempt',
    [dated]: time(b.updated_at, 'body.updated_at'),
    extensions: canvasExtensions({ submission_type: b.submission_type, url: url(b.url, 'body.url'), entity_id: entityId }),
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

export const submissionCommentCreated = mapper({
  eventName: 'submission_comment_created',
  type: 'MessageEvent',
  action: 'Posted',
  objectType: 'Message',
  body: body({ submission_comment_id: Id, submission_id: OptId, user_id: OptId, body: OptText, created_at: OptTime, attachment_ids: z.array(Id).nullish() }),
  map: ({ body: b }) => {
    const entityId = id(b.submission_comment_id, 'body.submission_comment_id');
    const author = optId(b.user_id, 'body.user_id');
    const attachments = (b.attachment_ids ?? []).map((a, i) => ({ id: urn('attachment', id(a, `body.attachment_ids[${i}]`)), type: 'Document' }));
    return {
      object: {
        id: urn('submission_comment', entityId),
        type: 'Message',
        dateCreated: time(b.created_at, 'body.created_at'),
        // The submission stays in the extensions: a Message is part of a Thread, and a submission is an Attempt.
        extensions: canvasExtensions({
          ...bodyFields(b, ['submission_comment_id', 'user_id', 'body', 'created_at', 'attachment_ids']),
          entity_id: entityId,
        }),
        creators: author === undefined ? undefined : [{ id: userUrn(author), type: 'Person' }],
        body: b.body,
        attachments: attachments.length ? attachments : undefined,
      },
      // A comment made by a job names its author in the body only.
      actorUserId: author,
    };
  },
});

const ATTEMPT_FIELDS = ['submission_id', 'assignment_id', 'user_id', 'updated_at'];

/** The submission as an Attempt of its student, every body field it does not place in its extensions. */
function attempt(b: Record<string, unknown>, placed: string[] = [], props: Record<string, unknown> = {}) {
  const entityId = id(b.submission_id, 'body.submission_id');
  const student = optId(b.user_id, 'body.user_id');
  const assignmentId = optId(b.assignment_id, 'body.assignment_id');
  return {
    id: urn('submission', entityId),
    type: 'Attempt',
    dateModified: time(b.updated_at, 'body.updated_at'),
    extensions: canvasExtensions({ ...bodyFields(b, [...ATTEMPT_FIELDS, ...placed]), entity_id: entityId }),
    assignee: student && { id: userUrn(student), type: 'Person' },
    assignable: assignmentId && { id: urn('assignment', assignmentId), type: 'AssignableDigitalResource' },
    ...props,
  };
}

const AttemptBody = { submission_id: Id, assignment_id: OptId, user_id: OptId, updated_at: OptTime };

/** A custom status (e.g. "Incomplete") is no score: the submission is modified, not graded. */
export const submissionCustomGradeStatus = mapper({
  eventName: 'submission_custom_grade_status',
  type: 'Event',
  action: 'Modified',
  objectType: 'Attempt',
  body: body({ ...AttemptBody, course_id: OptId }),
  map: ({ body: b }) => {
    const courseId = optId(b.course_id, 'body.course_id');
    return { object: attempt(b), context: courseId === undefined ? undefined : { type: 'Course', id: courseId } };
  },
});

/** A grader sends the submission to the plagiarism service again: it is turned in for analysis, not by its student. */
export const plagiarismResubmit = mapper({
  eventName: 'plagiarism_resubmit',
  type: 'Event',
  action: 'Submitted',
  objectType: 'Attempt',
  body: body({ ...AttemptBody, attempt: OptInt }),
  map: ({ body: b }) => ({ object: attempt(b, ['attempt'], { count: b.attempt }) }),
});

/** What a rubric assessment assesses (`artifact_type`, as documented): its URN kind. */
const ARTIFACT_KINDS = {
  Submission: 'submission',
  'ModeratedGrading::ProvisionalGrade': 'moderated_grading/provisional_grade',
  Assignment: 'assignment',
} as const;
const ArtifactType = z.enum(Object.keys(ARTIFACT_KINDS) as [keyof typeof ARTIFACT_KINDS]);

/** The assessed artifact (the submission, as a rule) is the graded Attempt; the rubric assessment is the Score. */
export const rubricAssessed = mapper({
  eventName: 'rubric_assessed',
  type: 'GradeEvent',
  action: 'Graded',
  objectType: 'Attempt',
  body: body({ id: Id, artifact_id: Id, artifact_type: ArtifactType, attempt: OptInt, created_at: OptTime, updated_at: OptTime }),
  map: ({ body: b }) => {
    const artifactId = id(b.artifact_id, 'body.artifact_id');
    const assessmentId = id(b.id, 'body.id');
    const artifact = { id: urn(ARTIFACT_KINDS[b.artifact_type], artifactId), type: 'Attempt' };
    return {
      object: {
        ...artifact,
        extensions: canvasExtensions({ ...bodyFields(b, ['id', 'artifact_id', 'attempt', 'created_at', 'updated_at']), entity_id: artifactId }),
        count: b.attempt,
      },
      generated: {
        id: urn('rubric_assessment', assessmentId),
        type: 'Score',
        dateCreated: time(b.created_at, 'body.created_at'),
        dateModified: time(b.updated_at, 'body.updated_at'),
        extensions: canvasExtensions({ entity_id: assessmentId }),
        attempt: artifact,
      },
    };
  },
});
