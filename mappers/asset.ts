// asset_accessed: a user (or an unidentified visitor) navigated to a Canvas asset.
import { body, Id, OptText, z } from '../src/raw.js';
import { table } from '../src/table.js';
import { canvasExtensions, id, optId, url } from './builders.js';
import { urn } from './ids.js';
import { mapper } from './mapper.js';

/** Asset types Instructure maps to a specific Caliper type; every other asset is a named Entity. */
const ASSET_TYPES: Record<string, string> = table({
  assignment: 'AssignableDigitalResource',
  discussion_topic: 'Thread',
  wiki_page: 'Page',
});

export const assetAccessed = mapper({
  eventName: 'asset_accessed',
  type: 'NavigationEvent',
  action: 'NavigatedTo',
  objectType: `Entity, ${[...new Set(Object.values(ASSET_TYPES))].join(', ')}`,
  body: body({ asset_type: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(?:[:/][A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a Canvas asset type (e.g. wiki_page, quizzes:quiz, lti/tool_proxy)'), asset_id: Id, asset_subtype: OptText }),
  map: ({ metadata: m, body: b }) => {
    const entityId = id(b.asset_id, 'body.asset_id');
    const type = ASSET_TYPES[b.asset_type];
    return {
      object: {
        id: urn(b.asset_type, entityId),
        type: type ?? 'Entity',
        name: type ? undefined : (b.asset_subtype ?? b.asset_type),
        extensions: canvasExtensions({
          asset_name: b.asset_name,
          asset_type: b.asset_type,
          asset_subtype: b.asset_subtype,
          entity_id: entityId,
          context_account_id: optId(m.context_account_id, 'metadata.context_account_id'),
          http_method: m.http_method,
          developer_key_id: optId(m.developer_key_id, 'metadata.developer_key_id'),
          filename: b.filename,
          display_name: b.display_name,
          url: url(b.url, 'body.url'),
          domain: b.domain,
        }),
      },
      anonymousActor: 'application',
    };
  },
});
