import { table } from '../src/table.js';

// Instructure's Caliper ids: `urn:instructure:canvas:<kind>:<id>`. Most kinds are the Canvas asset
// type as is; a few are spelled differently in Instructure's output, and this table is the only place
// that knows which.
const URN_KIND: Record<string, string> = table({
  discussion_topic: 'discussion',
  discussion_entry: 'discussionEntry',
  wiki_page: 'wikiPage',
  group_category: 'groupCategory',
  group_membership: 'groupMembership',
});

export const URN_PREFIX = 'urn:instructure:canvas:';

/** The Caliper id of a Canvas object, e.g. urn('wiki_page', '12') = `urn:instructure:canvas:wikiPage:12`. */
export function urn(canvasType: string, id: string): string {
  return `${URN_PREFIX}${URN_KIND[canvasType] ?? canvasType}:${id}`;
}

export const userUrn = (id: string): string => urn('user', id);
export const courseUrn = (id: string): string => urn('course', id);
/** A section is named inside its course, as Instructure does: `…:course:<course>:section:<section>`. */
export const sectionUrn = (courseId: string, sectionId: string): string => `${courseUrn(courseId)}:section:${sectionId}`;
export const sessionUrn = (sessionId: string): string => urn('session', sessionId);

/** The application id Instructure uses: the Canvas host as an absolute IRI, or its default for jobs. */
export const DEFAULT_CANVAS_HOST = 'www.canvaslms.com';
export const appUrl = (hostname: string | undefined): string => `http://${hostname || DEFAULT_CANVAS_HOST}/`;
