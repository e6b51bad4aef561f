// grade_override, final_grade_custom_status, course_grade_change (ours: Instructure emits no Caliper for them).
// See docs/mapping-rules.md. A course grade is Canvas's Score record of a student's enrollment, not the Score of
// an Attempt, so it is the object of the generic Event Modified: GradeEvent needs an Attempt as its object.
// Caliper's Score is always of an Attempt (IMS's reference implementation refuses one without): the
// graded work is the Attempt with the Score's own id, as Instructure's grade_change gives a submission's
// Attempt and Score one id; its assignee is the student when the body names one.
import { body, Id, OptId, OptNumber, OptTime } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, optId, time, type Context } from './builders.js';
import { courseUrn, urn, userUrn } from './ids.js';
import type { Entity } from '../src/caliper/model.js';
import { mapper } from './mapper.js';

const courseContext = (b: Record<string, unknown>): Context | undefined => {
  const courseId = optId(b.course_id, 'body.course_id');
  return courseId === undefined ? undefined : { type: 'Course', id: courseId };
};

/** The work a Score grades: the Attempt with the Score's id, by the student `userId` when known. */
const gradedAttempt = (scoreUrn: string, userId: string | undefined): Entity => ({
  id: scoreUrn,
  type: 'Attempt',
  assignee: userId === undefined ? undefined : { id: userUrn(userId), type: 'Person' },
});

/** The Score record named by `score_id`, with the Caliper properties the event gives (`props`) from the body fields `placed`. */
function score(b: Record<string, unknown>, placed: string[] = [], props: Record<string, unknown> = {}) {
  const entityId = id(b.score_id, 'body.score_id');
  const scoreUrn = urn('score', entityId);
  return {
    object: {
      id: scoreUrn,
      type: 'Score',
      attempt: gradedAttempt(scoreUrn, optId(b.user_id, 'body.user_id')),
      dateModified: time(b.updated_at, 'body.updated_at'),
      extensions: canvasExtensions({ ...bodyFields(b, ['score_id', 'updated_at', ...placed]), entity_id: entityId }),
      ...props,
    },
    context: courseContext(b),
  };
}

export const gradeOverride = mapper({
  eventName: 'grade_override',
  type: 'Event',
  action: 'Modified',
  objectType: 'Score',
  body: body({ score_id: Id, course_id: OptId, override_score: OptNumber, updated_at: OptTime }),
  map: ({ body: b }) => score(b, ['override_score'], { scoreGiven: b.override_score }),
});

export const finalGradeCustomStatus = mapper({
  eventName: 'final_grade_custom_status',
  type: 'Event',
  action: 'Modified',
  objectType: 'Score',
  body: body({ score_id: Id, course_id: OptId, updated_at: OptTime }),
  map: ({ body: b }) => score(b),
});

/** course_grade_change names the score by its course and student only (no score id): the student's score inside the course. */
const courseScoreUrn = (courseId: string, userId: string) => `${courseUrn(courseId)}:user:${userId}:score`;

// The current score (graded, posted work only) is the grade Canvas shows; the final and unposted scores stay in the extensions.
export const courseGradeChange = mapper({
  eventName: 'course_grade_change',
  type: 'Event',
  action: 'Modified',
  objectType: 'Score',
  body: body({ course_id: Id, user_id: Id, current_score: OptNumber, created_at: OptTime, updated_at: OptTime }),
  map: ({ body: b }) => {
    const courseId = id(b.course_id, 'body.course_id');
    const userId = id(b.user_id, 'body.user_id');
    const scoreUrn = courseScoreUrn(courseId, userId);
    return {
      object: {
        id: scoreUrn,
        type: 'Score',
        attempt: gradedAttempt(scoreUrn, userId),
        dateCreated: time(b.created_at, 'body.created_at'),
        dateModified: time(b.updated_at, 'body.updated_at'),
        extensions: canvasExtensions(bodyFields(b, ['current_score', 'created_at', 'updated_at'])),
        scoreGiven: b.current_score,
      },
      context: { type: 'Course', id: courseId },
    };
  },
});
