// A realistic user-generated raw event to vary in rule tests (the shape of Instructure's examples).
import type { CaliperEvent, Envelope } from '../src/caliper/model.js';
import { mapEvent, type MapOptions } from '../src/engine.js';

export const SEND_TIME = '2020-01-01T00:00:00.000Z';

export function userEvent(eventName: string, body: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    metadata: {
      client_ip: '93.184.216.34',
      context_account_id: '21070000000000079',
      context_id: '21070000000000565',
      context_role: 'TeacherEnrollment',
      context_type: 'Course',
      event_name: eventName,
      event_time: '2019-11-01T19:11:11.323Z',
      hostname: 'oxana.instructure.com',
      http_method: 'POST',
      producer: 'canvas',
      referrer: null,
      request_id: '1dd9dc6f-2fb0-4c19-a6c5-7ee1bf3ed295',
      root_account_id: '21070000000000001',
      root_account_lti_guid: 'VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs.oxana.instructure.com',
      root_account_uuid: 'VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs',
      session_id: 'ef686f8ed684abf78cbfa1f6a58112b5',
      url: 'https://oxana.instructure.com/api/v1/courses/565/pages',
      user_agent: 'Mozilla/5.0',
      user_id: '21070000000000001',
      user_login: 'oxana@example.com',
      user_sis_id: '456-T45',
      ...metadata,
    },
    body,
  };
}

export function systemEvent(eventName: string, body: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    metadata: {
      job_id: '1020020528469291',
      job_tag: 'Assignment#post_submissions',
      producer: 'canvas',
      root_account_id: '21070000000000001',
      root_account_uuid: 'VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs',
      root_account_lti_guid: '7db438071375c02373713c12c73869ff2f470b68.oxana.instructure.com',
      event_name: eventName,
      event_time: '2019-11-01T00:07:59.125Z',
      ...metadata,
    },
    body,
  };
}

/** Removes the listed metadata fields (as a request without them would arrive). */
export function without<T extends { metadata: Record<string, unknown> }>(raw: T, ...fields: string[]): T {
  const copy = structuredClone(raw);
  for (const f of fields) delete copy.metadata[f];
  return copy;
}

export function event(raw: unknown, options: MapOptions = {}): CaliperEvent & Record<string, any> {
  const envelope: Envelope = mapEvent(raw, { sendTime: SEND_TIME, ...options });
  return envelope.data[0];
}

export const ext = (entity: any) => entity?.extensions?.['com.instructure.canvas'];
