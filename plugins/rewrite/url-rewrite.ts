// lighttpd 1.4.69 mod_rewrite's rule lists (mod_rewrite.c): url.rewrite-once (and its old names
// url.rewrite and url.rewrite-final) ahead of url.rewrite-repeat in one list, whose repeat index
// says which matches end rewriting; the -if-not-file pair likewise. A rewrite restarts the request
// at the new target (HANDLER_COMEBACK); more than 100 passes is an endless loop → 500.
import type { MergedConfig } from '../../config/model.js';
import type { Request } from '../../core/request.js';
import { applyRules, badTarget, ruleListOf, type Rule } from './rule-list.js';
import type { UrlParts } from './substitute.js';
import { normalizePath } from '../../core/http1/url.js';
import type { ConfigHash } from '../../config/model.js';

/** lighttpd: ((++count) & 0x1FF) > 100 → "ENDLESS LOOP IN rewrite-rule DETECTED". */
export const MAX_REWRITE_PASSES = 100;

/** One rule with the key it came from (error-log lines name the key's file:line). */
export interface KeyedRule {
  rule: Rule;
  key: string;
}

/** A combined list: rules before `repeatIndex` end rewriting when they match ("once"). */
export interface CombinedRules {
  rules: KeyedRule[];
  repeatIndex: number;
}

export const ONCE_KEYS = ['url.rewrite-once', 'url.rewrite-final', 'url.rewrite'] as const;
export const REPEAT_KEY = 'url.rewrite-repeat';
export const NF_ONCE_KEY = 'url.rewrite-if-not-file';
export const NF_REPEAT_KEY = 'url.rewrite-repeat-if-not-file';

/** Combine the "once" and "repeat" lists of one merged config (mod_rewrite_set_defaults order). */
export function combine(once: ReadonlyArray<[string, ConfigHash]>, repeat: ReadonlyArray<[string, ConfigHash]>): CombinedRules {
  const rules: KeyedRule[] = [];
  for (const [key, h] of once) for (const rule of ruleListOf(h)) rules.push({ rule, key });
  const repeatIndex = rules.length;
  for (const [key, h] of repeat) for (const rule of ruleListOf(h)) rules.push({ rule, key });
  return { rules, repeatIndex };
}

/** What a request has been through: lighttpd's plugin_ctx word (pass count, finished flag). */
export interface RewriteState {
  passes: number;
  finished: boolean;
}

/** The subject rules match: the target as lantern routes it (path with %XX upper-cased, query). */
export function subjectOf(req: Request): string {
  return req.query === null ? req.pathRaw : `${req.pathRaw}?${req.query}`;
}

/** `${url.*}` / `${qsa}` for this request. */
export function urlPartsOf(req: Request, subject: string): UrlParts {
  let authority = req.host;
  if (authority === '') {
    const name = req.config.values.get('server.name');
    if (typeof name === 'string') authority = name;
  }
  return { scheme: req.scheme, authority, port: req.conn.localPort ?? 0, target: subject, query: req.query };
}

/** Where a key was set for this request, for log lines. */
export function whereSet(config: MergedConfig, key: string): string {
  const loc = config.locs.get(key);
  return loc ? `${key} (${loc.file}:${loc.line})` : key;
}

export type RewriteOutcome =
  | { kind: 'none' }
  | { kind: 'rewritten'; target: string }
  | { kind: 'error'; status: number; log: string };

/**
 * Apply a combined list to the request (process_rewrite_rules). `state` is updated: the pass
 * counter, and `finished` once a "once" rule matched.
 */
export function processRewrite(req: Request, list: CombinedRules, state: RewriteState | undefined): { outcome: RewriteOutcome; state: RewriteState | undefined } {
  if (state !== undefined) {
    if (++state.passes > MAX_REWRITE_PASSES) {
      const key = list.rules[0]?.key ?? 'url.rewrite';
      return { outcome: { kind: 'error', status: 500, log: `endless loop in rewrite rules (more than ${MAX_REWRITE_PASSES} passes) for ${req.method} ${subjectOf(req)}: perhaps you want url.rewrite-once instead of url.rewrite-repeat (${whereSet(req.config, key)})` }, state };
    }
    if (state.finished) return { outcome: { kind: 'none' }, state };
  }
  if (list.rules.length === 0) return { outcome: { kind: 'none' }, state };
  const subject = subjectOf(req);
  const rules = list.rules.map((r) => r.rule);
  const r = applyRules(rules, subject, req.config.captures, urlPartsOf(req, subject));
  if (r.kind === 'too-long') return { outcome: { kind: 'error', status: 414, log: `rewrite: a target of ${subject.length} bytes is longer than rules are matched against` }, state };
  if (r.kind !== 'result') return { outcome: { kind: 'none' }, state };
  const keyed = list.rules[r.index]!;
  // G7: the result becomes the request target: it must be a valid origin-form target whose path
  // decodes and normalises (no %00, no control byte, valid UTF-8), else 500 and nothing is served.
  let bad = badTarget(r.value);
  if (bad === undefined) {
    const n = normalizePath(r.value);
    if ('error' in n) bad = `is not a valid path (${n.error.detail ?? n.error.code})`;
  }
  if (bad !== undefined) {
    return { outcome: { kind: 'error', status: 500, log: `rewrite rule "${keyed.rule.source}" of ${whereSet(req.config, keyed.key)}: the result ${JSON.stringify(r.value)} ${bad}; request ${req.method} ${JSON.stringify(subject)} refused` }, state };
  }
  const s = state ?? { passes: 0, finished: false };
  if (r.index < list.repeatIndex) s.finished = true;
  return { outcome: { kind: 'rewritten', target: r.value }, state: s };
}
