// One ordered list of `"regex" => "replacement"` rules (lighttpd's pcre_keyvalue_buffer): checked
// and compiled once at config load, then matched per request; the first rule whose regex matches
// gives the result (keyvalue.c pcre_keyvalue_buffer_process). Shared by url.rewrite-*,
// url.redirect and proxy-core.rewrite-request / -response.
import { ConfigHash } from '../../config/model.js';
import { checkPattern, compilePattern, MAX_SUBJECT_LENGTH, utf8Bytes } from './pattern.js';
import { parseTemplate, substitute, type Template, type UrlParts } from './substitute.js';

export interface Rule {
  /** The pattern as written in the config (error-log lines name the rule by it). */
  readonly source: string;
  readonly regex: RegExp;
  readonly template: Template;
}

export type RuleList = readonly Rule[];

/** What matching a list gave. */
export type MatchResult =
  | { kind: 'none' }
  /** A rule with an empty replacement matched: stop, change nothing (lighttpd). */
  | { kind: 'stop'; index: number }
  | { kind: 'result'; index: number; value: string; rule: Rule }
  | { kind: 'too-long' };

const compiled = new WeakMap<ConfigHash, RuleList>();

/**
 * Check and compile `( "regex" => "replacement", ... )`. Returns an error message or the list.
 * `bytes`: subjects are byte strings (targets, header values), so the pattern and the
 * replacement are taken as their UTF-8 bytes.
 */
export function compileRuleList(value: unknown, bytes: boolean): RuleList | string {
  if (!(value instanceof ConfigHash)) return 'expected ( "regex" => "replacement", ... )';
  const rules: Rule[] = [];
  for (const [pattern, replacement] of value.entries) {
    if (typeof replacement !== 'string') return `the replacement of "${pattern}" must be a string`;
    const bad = checkPattern(pattern);
    if (bad !== undefined) return `rule "${pattern}": ${bad}`;
    let template: Template;
    try {
      template = parseTemplate(bytes ? utf8Bytes(replacement) : replacement);
    } catch (err) {
      return `rule "${pattern}": ${(err as Error).message}`;
    }
    rules.push({ source: pattern, regex: compilePattern(pattern, bytes), template });
  }
  return rules;
}

/** The option check: compiles and keeps the list for the request path. */
export function checkRuleList(value: unknown): string | undefined {
  const r = compileRuleList(value, true);
  if (typeof r === 'string') return r;
  compiled.set(value as ConfigHash, r);
  return undefined;
}

/** The compiled list of an option value (compiled by the check at load; compiled now otherwise). */
export function ruleListOf(value: ConfigHash): RuleList {
  let r = compiled.get(value);
  if (r === undefined) {
    const c = compileRuleList(value, true);
    r = typeof c === 'string' ? [] : c;
    compiled.set(value, r);
  }
  return r;
}

/** Match `subject` against the list; substitute the first match. */
export function applyRules(rules: RuleList, subject: string, cond: readonly string[], url: UrlParts): MatchResult {
  if (rules.length === 0) return { kind: 'none' };
  if (subject.length > MAX_SUBJECT_LENGTH) return { kind: 'too-long' };
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const m = rule.regex.exec(subject);
    if (m === null) continue;
    if (rule.template.blank) return { kind: 'stop', index: i };
    return { kind: 'result', index: i, value: substitute(rule.template, m, cond, url), rule };
  }
  return { kind: 'none' };
}

/**
 * Why `target` is not a valid origin-form request target (RFC 9112 §3.2.1), or undefined: it
 * must start with "/" and hold only visible ASCII, no "#" (a fragment is never sent) and no
 * "%" without two hex digits. Its path is decoded and normalised again by the core.
 */
export function badTarget(target: string): string | undefined {
  if (target.charCodeAt(0) !== 0x2f) return 'does not begin with "/"';
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return `holds the byte 0x${c.toString(16).padStart(2, '0')}`;
    if (c === 0x23) return 'holds "#"';
    if (c === 0x25 && !/^%[0-9A-Fa-f]{2}/.test(target.slice(i, i + 3))) return 'holds "%" without two hex digits';
  }
  return undefined;
}

/** Why `value` cannot be a header field value: CR, LF, NUL or another control byte. */
export function badFieldValue(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d) return 'holds CR';
    if (c === 0x0a) return 'holds LF';
    if (c === 0) return 'holds NUL';
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return `holds the byte 0x${c.toString(16)}`;
  }
  return undefined;
}
