// wiki_page_created/updated/deleted
import { body, Id, OptText } from '../src/raw.js';
import { canvasExtensions, id } from './builders.js';
import { urn } from './ids.js';
import { mapper, type Mapper } from './mapper.js';

const WikiPageBody = body({ wiki_page_id: Id, title: OptText });

function wikiPageMapper(eventName: string, action: 'Created' | 'Modified' | 'Deleted'): Mapper<typeof WikiPageBody> {
  return mapper({
    eventName,
    type: 'Event',
    action,
    objectType: 'Page',
    body: WikiPageBody,
    map: ({ body: b }) => {
      const entityId = id(b.wiki_page_id, 'body.wiki_page_id');
      return {
        object: {
          id: urn('wiki_page', entityId),
          type: 'Page',
          name: b.title,
          extensions: canvasExtensions({ body: b.body, entity_id: entityId }),
        },
      };
    },
  });
}

export const wikiPageCreated = wikiPageMapper('wiki_page_created', 'Created');
export const wikiPageUpdated = wikiPageMapper('wiki_page_updated', 'Modified');
export const wikiPageDeleted = wikiPageMapper('wiki_page_deleted', 'Deleted');
