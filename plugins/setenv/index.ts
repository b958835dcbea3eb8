// mod_setenv (lighttpd 1.4.69): request headers added or set before any handler sees the request
// (uriClean), environment variables for CGI-family backends (requestEnv → req.env), response
// fields added or set on every response, error pages included (responseStart).
import type { ConfigHash } from '../../config/model.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import { applyEnv, applyFields, checkEnvList, checkHeaderList, envPairs, headerPairs, type SetenvPair } from './field-rules.js';

/**
 * Tap stage in `uriClean`: before access rules, auth and redirects (stage 0), so they see the
 * request headers setenv adds, as they would in lighttpd with mod_setenv listed first.
 */
export const SETENV_STAGE = -50;

/** What one request got from setenv, decided once at uriClean (lighttpd's handler_ctx). */
interface SetenvState {
  addResponse: readonly SetenvPair[];
  setResponse: readonly SetenvPair[];
  addEnv: readonly SetenvPair[];
  setEnv: readonly SetenvPair[];
  /** req.env already has the variables (a restarted request keeps them). */
  envDone: boolean;
}

const NONE: readonly SetenvPair[] = Object.freeze([]);
const headers = (h: ConfigHash | undefined) => (h === undefined || h.size === 0 ? NONE : headerPairs(h));
const envs = (h: ConfigHash | undefined) => (h === undefined || h.size === 0 ? NONE : envPairs(h));

export default definePlugin({
  id: 'setenv',
  aliases: ['mod_setenv'],
  options: {
    'setenv.add-request-header': { type: 'hash', check: checkHeaderList, doc: 'Request header fields added before any handler sees the request: ( "Name" => "value", ... ). A field the client sent stays, and the value is added as another line of it (proxied backends get both lines, CGI-family backends one HTTP_* variable joined with ", "). Default: none.' },
    'setenv.set-request-header': { type: 'hash', check: checkHeaderList, doc: 'Request header fields replaced before any handler sees the request: ( "Name" => "value", ... ); an empty value removes the field. Applied after setenv.add-request-header. Default: none.' },
    'setenv.add-response-header': { type: 'hash', check: checkHeaderList, doc: 'Response header fields added to every response (files, backends, redirects, error pages): ( "Name" => "value", ... ). A field the handler set stays and the value goes out as another line. Default: none.' },
    'setenv.set-response-header': { type: 'hash', check: checkHeaderList, doc: 'Response header fields replaced on every response: ( "Name" => "value", ... ); an empty value removes the field. Applied after setenv.add-response-header. Default: none.' },
    'setenv.add-environment': { type: 'hash', check: checkEnvList, doc: 'Environment variables for CGI, FastCGI and SCGI backends: ( "NAME" => "value", ... ). A variable already set by another module gets ", value" appended. Default: none.' },
    'setenv.set-environment': { type: 'hash', check: checkEnvList, doc: 'Environment variables for CGI, FastCGI and SCGI backends, replacing any value the server or another module set: ( "NAME" => "value", ... ). Applied after setenv.add-environment. Default: none.' },
  },
  create(ctx) {
    // Kept by Request (not pluginData): an internal redirect restarts the pipeline and clears
    // pluginData, and lighttpd applies the lists once per request all the same.
    const states = new WeakMap<Request, SetenvState>();

    /** The lists for `req`, from its merged config now. */
    const stateFor = (req: Request): SetenvState => {
      const o = ctx.options(req);
      const state: SetenvState = {
        addResponse: headers(o['setenv.add-response-header']),
        setResponse: headers(o['setenv.set-response-header']),
        addEnv: envs(o['setenv.add-environment']),
        setEnv: envs(o['setenv.set-environment']),
        envDone: false,
      };
      states.set(req, state);
      return state;
    };

    ctx.hooks.uriClean.tap({ name: ctx.id, stage: SETENV_STAGE }, (req) => {
      if (states.has(req)) return undefined;
      const o = ctx.options(req);
      stateFor(req);
      const add = headers(o['setenv.add-request-header']);
      const set = headers(o['setenv.set-request-header']);
      if (add.length > 0 || set.length > 0) {
        applyFields(req.head.headers, add, set);
        // The authority the request is for follows a Host that setenv set (lighttpd's
        // r->http_host is the Host field itself); an absolute-form target's authority still wins.
        if (req.head.targetScheme === null) {
          const host = req.header('host');
          if (host !== undefined && host !== req.host) req.host = host.toLowerCase();
        }
      }
      return undefined;
    });

    ctx.hooks.requestEnv.tap(ctx.id, (req) => {
      const state = states.get(req);
      if (state === undefined || state.envDone) return;
      state.envDone = true;
      if (state.addEnv.length > 0 || state.setEnv.length > 0) applyEnv(req.env, state.addEnv, state.setEnv);
    });

    ctx.hooks.responseStart.tap(ctx.id, (req) => {
      // A request answered before uriClean (a redirect in uriRaw, 413, 417) gets the response
      // fields too, from the config it has (the global one when it was refused before routing).
      const state = states.get(req) ?? stateFor(req);
      if (state.addResponse.length === 0 && state.setResponse.length === 0) return;
      // The list may be shared (a cached static head): change a copy.
      req.responseHeaders = req.responseHeaders.slice();
      applyFields(req.responseHeaders, state.addResponse, state.setResponse);
    });
  },
});
