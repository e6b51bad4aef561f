// logged_in, logged_out: the object is Canvas itself (the edApp).
import { body } from '../src/raw.js';
import { canvasExtensions, edApp, url } from './builders.js';
import { mapper } from './mapper.js';

export const loggedIn = mapper({
  eventName: 'logged_in',
  type: 'SessionEvent',
  action: 'LoggedIn',
  objectType: 'SoftwareApplication',
  body: body({}),
  map: ({ metadata: m, body: b }) => ({
    object: { ...edApp(m), extensions: canvasExtensions({ redirect_url: url(b.redirect_url, 'body.redirect_url') }) },
  }),
});

export const loggedOut = mapper({
  eventName: 'logged_out',
  type: 'SessionEvent',
  action: 'LoggedOut',
  objectType: 'SoftwareApplication',
  body: body({}),
  map: ({ metadata: m }) => ({ object: edApp(m) }),
});
