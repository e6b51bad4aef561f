// quiz_created/updated, quiz_submitted
import { body, Id, OptNumber, OptText } from '../src/raw.js';
import { canvasExtensions, id, optId, time } from './builders.js';
import { urn, userUrn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const QuizBody = body({ quiz_id: Id, title: OptText, points_possible: OptNumber });

function quizMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof QuizBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'Assessment',
    body: QuizBody,
    map: ({ body: b }) => {
      const entityId = id(b.quiz_id, 'body.quiz_id');
      return {
        object: {
          id: urn('quiz', entityId),
          type: 'Assessment',
          name: b.title,
          [action === 'Created' ? 'dateCreated' : 'dateModified']: time(b.updated_at, 'body.updated_at'),
          extensions: canvasExtensions({
            quiz_type: b.quiz_type,
            time_limit: b.time_limit,
            access_code: b.access_code,
            workflow_state: b.workflow_state,
            entity_id: entityId,
          }),
          dateToShow: time(b.unlock_at, 'body.unlock_at'),
          dateToSubmit: time(b.due_at, 'body.due_at'),
          maxScore: b.points_possible,
        },
      };
    },
  });
}

export const quizCreated = quizMapper('quiz_created', 'Created');
export const quizUpdated = quizMapper('quiz_updated', 'Modified');

/** The quiz submission (an Attempt by the submitting user) is the object, as Instructure emits it. */
export const quizSubmitted = mapper({
  eventName: 'quiz_submitted',
  type: 'AssessmentEvent',
  action: 'Submitted',
  objectType: 'Attempt',
  body: body({ submission_id: Id, quiz_id: Id }),
  map: ({ metadata: m, body: b }) => {
    const entityId = id(b.submission_id, 'body.submission_id');
    const submitter = optId(m.user_id, 'metadata.user_id');
    return {
      object: {
        id: urn('submission', entityId),
        type: 'Attempt',
        extensions: canvasExtensions({ entity_id: entityId }),
        assignee: submitter && { id: userUrn(submitter), type: 'Person' },
        assignable: { id: urn('quiz', id(b.quiz_id, 'body.quiz_id')), type: 'Assessment' },
      },
    };
  },
});
