// mod_redirect (lighttpd 1.4.69 mod_redirect.c): an external redirect by regex with captures,
// at uriClean (after mod_rewrite), matched against the target (path and query, percent-encoded).
// The rule engine is the rewrite plugin's (plugins/rewrite): the same substitutions. docs/rewrite.md.
import { definePlugin } from '../../core/plugin.js';
import { applyRules, badFieldValue, checkRuleList, ruleListOf } from '../rewrite/rule-list.js';
import { subjectOf, urlPartsOf, whereSet } from '../rewrite/url-rewrite.js';

export default definePlugin({
  id: 'redirect',
  aliases: ['mod_redirect'],
  options: {
    'url.redirect': { type: 'hash', check: checkRuleList, doc: 'External redirects: ( "regex" => "location", ... ) matched against the target (path with its query, percent-encoded, after url.rewrite-*); the first matching rule answers with url.redirect-code and a Location built from its replacement ($1..$9 the rule\'s captures, %1..%9 the enclosing condition\'s, ${url.scheme}, ${url.authority}, ${qsa} and the other lighttpd substitutions). An empty replacement stops matching without a redirect. A Location that would hold CR, LF, NUL or another control byte answers 500. Default: none.' },
    'url.redirect-code': { type: 'integer', default: 301, min: 100, max: 999, doc: 'The status of a url.redirect answer: 301, 302, 303, 307 or 308 (any status from 100 to 999 is sent as given). Default: 301.' },
  },
  create(ctx) {
    ctx.hooks.uriClean.tap(ctx.id, (req) => {
      const o = ctx.options(req);
      const list = o['url.redirect'];
      if (list === undefined || list.size === 0) return undefined;
      const subject = subjectOf(req);
      const r = applyRules(ruleListOf(list), subject, req.config.captures, urlPartsOf(req, subject));
      if (r.kind === 'too-long') {
        ctx.logError(`redirect: a target of ${subject.length} bytes is longer than rules are matched against`);
        return 414;
      }
      if (r.kind !== 'result') return undefined;
      // G7: a Location with CR, LF or NUL would split the response: refused, never sent.
      const bad = badFieldValue(r.value);
      if (bad !== undefined) {
        ctx.logError(`redirect rule "${r.rule.source}" of ${whereSet(req.config, 'url.redirect')}: the Location ${bad}; request ${req.method} ${JSON.stringify(subject)} refused`);
        return 500;
      }
      req.respond(o['url.redirect-code'], ['Location', r.value], '');
      return true;
    });
  },
});
