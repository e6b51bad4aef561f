// learning_outcome_*, learning_outcome_group_*, learning_outcome_link_*, learning_outcome_result_*,
// outcome_calculation_method_*, outcome_proficiency_* (ours: Instructure emits no Caliper for them). See docs/mapping-rules.md.
import { FieldError } from '../src/errors.js';
import { body, Id, OptId, OptInt, OptNumber, OptText, OptTime } from '../src/raw.js';
import { bodyFields, canvasExtensions, id, optId, time, type Context } from './builders.js';
import { urn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

/** A Canvas record created or modified: its Caliper type, URN kind, id field, and the fields that give its name and description. */
interface Model {
  type: string;
  kind: string;
  idField: string;
  name?: string;
  description?: string;
}

const OUTCOME: Model = { type: 'LearningObjective', kind: 'learning_outcome', idField: 'learning_outcome_id', name: 'title', description: 'description' };
// An outcome group is a folder of outcomes (a DigitalResourceCollection), a link places an outcome in a
// context's group (a content tag), and calculation methods and proficiencies (mastery scales) are a context's
// settings: Caliper has no closer type for these than DigitalResource, and IMS's 1.1 schema wants a typed object.
const OUTCOME_GROUP: Model = { type: 'DigitalResourceCollection', kind: 'learning_outcome_group', idField: 'learning_outcome_group_id', name: 'title', description: 'description' };
const OUTCOME_LINK: Model = { type: 'DigitalResource', kind: 'content_tag', idField: 'learning_outcome_link_id' };
const CALCULATION_METHOD: Model = { type: 'DigitalResource', kind: 'outcome_calculation_method', idField: 'outcome_calculation_method_id' };
const PROFICIENCY: Model = { type: 'DigitalResource', kind: 'outcome_proficiency', idField: 'outcome_proficiency_id' };

function recordMapper(eventName: string, action: 'Created' | 'Modified', r: Model): Mapper {
  const text = [r.name, r.description].filter((f): f is string => f !== undefined);
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: r.type,
    body: body({ [r.idField]: Id, ...Object.fromEntries(text.map((f) => [f, OptText])), created_at: OptTime, updated_at: OptTime }),
    map: ({ body: b }) => {
      const entityId = id(b[r.idField], `body.${r.idField}`);
      return {
        object: {
          id: urn(r.kind, entityId),
          type: r.type,
          name: r.name && b[r.name],
          description: r.description && b[r.description],
          dateCreated: time(b.created_at, 'body.created_at'),
          dateModified: time(b.updated_at, 'body.updated_at'),
          extensions: canvasExtensions({ ...bodyFields(b, [r.idField, ...text, 'created_at', 'updated_at']), entity_id: entityId }),
        },
      };
    },
  });
}

export const learningOutcomeCreated = recordMapper('learning_outcome_created', 'Created', OUTCOME);
export const learningOutcomeUpdated = recordMapper('learning_outcome_updated', 'Modified', OUTCOME);
export const learningOutcomeGroupCreated = recordMapper('learning_outcome_group_created', 'Created', OUTCOME_GROUP);
export const learningOutcomeGroupUpdated = recordMapper('learning_outcome_group_updated', 'Modified', OUTCOME_GROUP);
export const learningOutcomeLinkCreated = recordMapper('learning_outcome_link_created', 'Created', OUTCOME_LINK);
export const learningOutcomeLinkUpdated = recordMapper('learning_outcome_link_updated', 'Modified', OUTCOME_LINK);
export const outcomeCalculationMethodCreated = recordMapper('outcome_calculation_method_created', 'Created', CALCULATION_METHOD);
export const outcomeCalculationMethodUpdated = recordMapper('outcome_calculation_method_updated', 'Modified', CALCULATION_METHOD);
export const outcomeProficiencyCreated = recordMapper('outcome_proficiency_created', 'Created', PROFICIENCY);
export const outcomeProficiencyUpdated = recordMapper('outcome_proficiency_updated', 'Modified', PROFICIENCY);

/** The assets an outcome is aligned to (`associated_asset_type`): URN kind (as the quiz events name quizzes) and Caliper type. */
const ALIGNED = new Map<string, [kind: string, type: string]>([
  ['Assignment', ['assignment', 'AssignableDigitalResource']],
  ['Quizzes::Quiz', ['quiz', 'Assessment']],
  ['AssessmentQuestion', ['assessment_question', 'AssessmentItem']],
  ['LiveAssessments::Assessment', ['live_assessments/assessment', 'Assessment']],
]);

/** A Canvas class name as its URN kind: `Quizzes::QuizSubmission` → `quizzes/quiz_submission`. */
function kindOf(className: string, field: string): string {
  if (!/^[A-Z][A-Za-z\d]*(::[A-Z][A-Za-z\d]*)*$/.test(className)) throw new FieldError(field, `"${className}" is not a Canvas class name`);
  return className.replace(/::/g, '/').replace(/([a-z\d])([A-Z])/g, '$1_$2').toLowerCase();
}

const ResultBody = body({
  id: OptId,
  learning_outcome_id: Id,
  attempt: OptInt,
  score: OptNumber,
  possible: OptNumber,
  created_at: OptTime,
  updated_at: OptTime,
  artifact_id: OptId,
  artifact_type: OptText,
  associated_asset_id: OptId,
  associated_asset_type: OptText,
  result_context_id: OptId,
  result_context_type: OptText,
});

/**
 * An outcome result is the learner's attempt at an outcome aligned to an asset, graded (Caliper's
 * Grading profile): the Attempt is the object and its Score is generated, both named by the result as
 * grade_change names both by the submission.
 */
function resultMapper(eventName: string): Mapper<typeof ResultBody> {
  return mapper({
    eventName,
    type: 'GradeEvent',
    action: 'Graded',
    objectType: 'Attempt',
    body: ResultBody,
    map: ({ body: b }) => {
      const entityId = optId(b.id, 'body.id');
      const outcomeId = id(b.learning_outcome_id, 'body.learning_outcome_id');
      const resultId = entityId ? urn('learning_outcome_result', entityId) : artifactResultUrn(b, outcomeId);
      const assetId = optId(b.associated_asset_id, 'body.associated_asset_id');
      const aligned = b.associated_asset_type ? ALIGNED.get(b.associated_asset_type) : undefined;
      const contextId = optId(b.result_context_id, 'body.result_context_id');
      const context: Context | undefined = b.result_context_type && contextId ? { type: b.result_context_type, id: contextId } : undefined;
      return {
        object: {
          id: resultId,
          type: 'Attempt',
          dateCreated: time(b.created_at, 'body.created_at'),
          dateModified: time(b.updated_at, 'body.updated_at'),
          extensions: canvasExtensions({
            ...bodyFields(b, ['id', 'attempt', 'score', 'possible', 'created_at', 'updated_at']),
            entity_id: entityId,
          }),
          assignable: aligned && assetId && {
            id: urn(aligned[0], assetId),
            type: aligned[1],
            learningObjectives: [{ id: urn('learning_outcome', outcomeId), type: 'LearningObjective' }],
          },
          count: b.attempt,
        },
        generated: { id: resultId, type: 'Score', attempt: resultId, maxScore: b.possible, scoreGiven: b.score },
        context,
      };
    },
  });
}

/**
 * Canvas's documented learning_outcome_result_created payload (before Canvas added `id`) names no
 * result: it is then named by the assessed artifact and the outcome, one result per outcome per artifact.
 */
function artifactResultUrn(b: { artifact_id?: string | number | null; artifact_type?: string | null }, outcomeId: string): string {
  const artifactId = optId(b.artifact_id, 'body.artifact_id');
  if (!b.artifact_type || !artifactId) throw new FieldError('body.id', 'is required when the body names no artifact (artifact_type, artifact_id)');
  return `${urn(kindOf(b.artifact_type, 'body.artifact_type'), artifactId)}:learning_outcome:${outcomeId}`;
}

export const learningOutcomeResultCreated = resultMapper('learning_outcome_result_created');
export const learningOutcomeResultUpdated = resultMapper('learning_outcome_result_updated');
