// mod_rewrite (lighttpd 1.4.69): internal rewrites of the request target by regex with captures,
// at uriRaw (before the path is decoded) and, for the -if-not-file lists, at physical when the
// file does not exist; plus lighttpd 1.5's proxy-core.rewrite-request / -response on proxy-core's
// upstream hooks. The engine (patterns, substitutions) is shared with mod_redirect. docs/rewrite.md.
import fs from 'node:fs';
import type { ConfigHash } from '../../config/model.js';
import type { HookResult } from '../../core/hooks.js';
import { definePlugin } from '../../core/plugin.js';
import type { Request } from '../../core/request.js';
import type { ProxyCoreApi } from '../proxy-core/api.js';
import { applyHeaderEdits, checkHeaderEdits, headerEditsOf } from './header-edits.js';
import { applyXRewrite, checkRequestRewrite, checkResponseRewrite, rewriteUpstreamRequest, rewriteUpstreamResponse } from './proxy-rewrite.js';
import { checkRuleList } from './rule-list.js';
import {
  combine, NF_ONCE_KEY, NF_REPEAT_KEY, ONCE_KEYS, processRewrite, REPEAT_KEY,
  type CombinedRules, type RewriteState,
} from './url-rewrite.js';

/** Tap stage in physical: after alias and userdir have set the file the request maps to. */
const PHYSICAL_STAGE = 50;

const RULES_DOC = ' Patterns are JavaScript regular expressions (docs/rewrite.md says what differs from PCRE); nested unbounded quantifiers and PCRE-only syntax stop the start.';

/** stat(2) says a regular file; any error (ENOENT, ENOTDIR for "/file.txt/extra", EACCES) says no. */
function isRegularFile(file: string): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false;
  }
}

export default definePlugin({
  id: 'rewrite',
  aliases: ['mod_rewrite'],
  options: {
    'url.rewrite-once': { type: 'hash', check: checkRuleList, doc: `Internal rewrites: ( "regex" => "replacement", ... ) matched against the target (path with its query, percent-encoded) before the path is decoded; the first matching rule gives the new target, which is served in place of the old one, and no rewrite rule applies to the request again. $1..$9 are the rule's captures, %1..%9 the enclosing condition's; \${url.path}, \${qsa} and the other lighttpd substitutions are read. An empty replacement stops rewriting without changing the target. Default: none.${RULES_DOC}` },
    'url.rewrite-final': { type: 'hash', check: checkRuleList, doc: 'Old name of url.rewrite-once (its rules come after url.rewrite-once\'s in the same list). Default: none.' },
    'url.rewrite': { type: 'hash', check: checkRuleList, doc: 'Old name of url.rewrite-once (its rules come after url.rewrite-final\'s in the same list). Default: none.' },
    'url.rewrite-repeat': { type: 'hash', check: checkRuleList, doc: 'Like url.rewrite-once, but the rewritten request is matched against the rules again (those of the condition blocks its new target matches); checked after the url.rewrite-once rules. More than 100 passes answer 500. Default: none.' },
    'url.rewrite-if-not-file': { type: 'hash', check: checkRuleList, doc: 'Like url.rewrite-once, but applied only when the request does not name an existing regular file (checked after the document root, alias and userdir are applied; a directory is not a file). Default: none.' },
    'url.rewrite-repeat-if-not-file': { type: 'hash', check: checkRuleList, doc: 'Like url.rewrite-repeat, but applied only when the request does not name an existing regular file; checked after the url.rewrite-if-not-file rules. Default: none.' },
    'proxy-core.rewrite-request': { type: 'hash', check: checkRequestRewrite, doc: 'lighttpd 1.5: rewrites of what proxy-core sends to a backend: ( "Header-Name" => ( "regex" => "replacement", ... ), "_uri" => ( ... ), ... ). A header\'s value (all its lines joined, "" when absent) is matched and replaced by the first rule that matches (an empty result removes it); "_uri" rewrites the target sent, "_docroot" DOCUMENT_ROOT, and "_pathinfo" / "_scriptname" set PATH_INFO / SCRIPT_NAME from the decoded request path (FastCGI, SCGI, CGI backends; SCRIPT_FILENAME follows). A result that is not a valid target or value answers 500. Default: none.' },
    'proxy-core.rewrite-response': { type: 'hash', check: checkResponseRewrite, doc: 'lighttpd 1.5: rewrites of a backend\'s response header lines before they reach the client: ( "Location" => ( "regex" => "replacement", ... ), "Set-Cookie" => ( ... ) ). Each line is matched on its own and replaced by the first rule that matches; an empty result removes the line. A result holding CR, LF, NUL or another control byte answers 500. Default: none.' },
    'proxy-core.allow-x-rewrite': { type: 'boolean', default: false, doc: 'lighttpd 1.5: let a backend\'s X-Rewrite-URI and X-Rewrite-Host response fields restart the request at that target and Host (its response is discarded; the restarted request is a GET, HEAD stays HEAD; more than 10 restarts answer 500). X-Rewrite-Backend ("host:port", "[v6]:port" or "unix:/path") sends the restarted request to that address, with the protocol and options of the backend that answered. The fields never reach the client. Default: disabled.' },
    'rewrite.request-header': { type: 'hash', check: checkHeaderEdits, doc: 'Request header edits before any handler sees the request (after url.rewrite-*): { "remove": [ "Name", ... ], "set": { "Name": "value" }, "add": { "Name": "value" } }, applied in that order; "set" replaces every line of the field (an empty value removes it), "add" appends a line. The native config\'s form; lighttpd syntax writes the same as ( "set" => ( "Name" => "value" ), "remove" => ( "Name" ) ). Default: none.' },
    'rewrite.response-header': { type: 'hash', check: checkHeaderEdits, doc: 'Response header edits on every response (files, backends, redirects, error pages), in the form of rewrite.request-header. Content-Length and Transfer-Encoding cannot be edited. Default: none.' },
  },
  create(ctx) {
    // Kept by Request, not pluginData: the count and the "once" mark live across restarts.
    const states = new WeakMap<Request, RewriteState>();
    const uriLists = new WeakMap<object, CombinedRules>();
    const nfLists = new WeakMap<object, CombinedRules>();
    /** Requests whose header edits are done (a restarted request is not edited twice). */
    const edited = new WeakSet<Request>();

    const pairs = (o: Record<string, unknown>, keys: readonly string[]): Array<[string, ConfigHash]> => {
      const out: Array<[string, ConfigHash]> = [];
      for (const k of keys) {
        const v = o[k] as ConfigHash | undefined;
        if (v !== undefined && v.size > 0) out.push([k, v]);
      }
      return out;
    };
    const listFor = (req: Request, notFile: boolean): CombinedRules => {
      const o = ctx.options(req) as unknown as Record<string, unknown>;
      const cache = notFile ? nfLists : uriLists;
      let l = cache.get(o);
      if (l === undefined) {
        l = notFile ? combine(pairs(o, [NF_ONCE_KEY]), pairs(o, [NF_REPEAT_KEY])) : combine(pairs(o, ONCE_KEYS), pairs(o, [REPEAT_KEY]));
        cache.set(o, l);
      }
      return l;
    };

    const run = (req: Request, notFile: boolean): HookResult => {
      const list = listFor(req, notFile);
      const before = states.get(req);
      if (list.rules.length === 0 && before === undefined) return undefined;
      const { outcome, state } = processRewrite(req, list, before);
      if (state !== undefined && before === undefined) states.set(req, state);
      if (outcome.kind === 'none') return undefined;
      if (outcome.kind === 'error') {
        ctx.logError(outcome.log);
        return outcome.status;
      }
      // lighttpd HANDLER_COMEBACK: the request starts over at the new target (conditions, rules).
      req.target = outcome.target;
      req.handler = null;
      req.conn.server.pipeline.run(req);
      return true;
    };

    ctx.hooks.uriRaw.tap(ctx.id, (req) => run(req, false));

    // Stage -40: after mod_setenv (-50), before access rules and auth (0) so that they see it.
    ctx.hooks.uriClean.tap({ name: ctx.id, stage: -40 }, (req) => {
      const spec = ctx.options(req)['rewrite.request-header'];
      const edits = spec === undefined ? null : headerEditsOf(spec);
      if (edits === null || edited.has(req)) return undefined;
      edited.add(req);
      const h = req.head.headers;
      const next = applyHeaderEdits(h, edits);
      h.length = 0;
      for (const x of next) h.push(x);
      return undefined;
    });

    ctx.hooks.responseStart.tap(ctx.id, (req) => {
      const spec = ctx.options(req)['rewrite.response-header'];
      const edits = spec === undefined ? null : headerEditsOf(spec);
      if (edits === null) return;
      // The list may be shared (a cached static head): replace it, never change it in place.
      req.responseHeaders = applyHeaderEdits(req.responseHeaders, edits);
    });

    ctx.hooks.physical.tap({ name: ctx.id, stage: PHYSICAL_STAGE }, (req) => {
      if (listFor(req, true).rules.length === 0) return undefined;
      // lighttpd: skipped when the path is a regular file (a stat of a local path: no wait on I/O
      // that matters, and lighttpd's stat cache does the same synchronously).
      if (req.physicalPath !== '' && isRegularFile(req.physicalPath)) return undefined;
      return run(req, true);
    });

    ctx.hooks.configured.tap(ctx.id, () => {
      const api = ctx.server.host.api<ProxyCoreApi>('proxy-core');
      if (api === undefined) return;
      const log = (m: string): void => ctx.logError(m);
      api.hooks.upstreamRequest.tap(ctx.id, (up) => {
        const spec = ctx.options(up.req)['proxy-core.rewrite-request'];
        if (spec !== undefined && spec.size > 0) rewriteUpstreamRequest(up, spec, log);
      });
      api.hooks.upstreamResponse.tap(ctx.id, (head, req) => {
        const o = ctx.options(req);
        if (o['proxy-core.allow-x-rewrite']) {
          applyXRewrite(head, req, api, log);
          if (head.localRedirect !== null) return;
        }
        const spec = o['proxy-core.rewrite-response'];
        if (spec !== undefined && spec.size > 0) rewriteUpstreamResponse(head, req, spec, log);
      });
    });
  },
});
