// sis_batch_created/updated (ours: Instructure emits no Caliper for them). See docs/mapping-rules.md.
import { body, Id } from '../src/raw.js';
import { bodyFields, canvasExtensions, id } from './builders.js';
import { urn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const SisBatchBody = body({ sis_batch_id: Id });

/** An SIS import: the import file (a DigitalResource), with the import's state in its extensions (IMS's 1.1 schema wants a typed object). */
function sisBatchMapper(eventName: string, action: 'Created' | 'Modified'): Mapper<typeof SisBatchBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'DigitalResource',
    body: SisBatchBody,
    map: ({ body: b }) => {
      const entityId = id(b.sis_batch_id, 'body.sis_batch_id');
      return {
        object: {
          id: urn('sis_batch', entityId),
          type: 'DigitalResource',
          extensions: canvasExtensions({ ...bodyFields(b, ['sis_batch_id']), entity_id: entityId }),
        },
      };
    },
  });
}

export const sisBatchCreated = sisBatchMapper('sis_batch_created', 'Created');
export const sisBatchUpdated = sisBatchMapper('sis_batch_updated', 'Modified');
