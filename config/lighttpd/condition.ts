// Building a Condition from a parsed `$KIND["field"] op "value"` head, with the checks lighttpd
// 1.4.69 does at load (configparser_comp_key_id() and configparser_parse_condition() in
// src/configparser.y): known kinds and fields, valid regexes, valid remoteip addresses/CIDRs,
// lowercased host values. Shared by the lighttpd parser and the native format.
import { parseIpMask } from '../ip-address.js';
import { ConfigError, type Condition, type ConditionOp, type SourceLoc } from '../model.js';

/** `$HTTP[...]` fields as written → canonical Condition.field (lighttpd's aliases included). */
const HTTP_FIELDS = new Map<string, string>([
  ['host', 'host'],
  ['url', 'url'],
  ['querystring', 'querystring'],
  ['query-string', 'querystring'],
  ['remoteip', 'remoteip'],
  ['remote-ip', 'remoteip'],
  ['scheme', 'scheme'],
  ['request-method', 'request-method'],
  ['referer', 'referer'],
  ['useragent', 'useragent'],
  ['user-agent', 'useragent'],
  ['cookie', 'cookie'],
  ['language', 'language'],
]);

const OPS = new Set<string>(['==', '!=', '=~', '!~', '=^', '=$']);

/** RFC 9110 §5.1 field-name token, for $REQUEST_HEADER["..."]. */
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Compile a condition pattern. lighttpd uses PCRE; JavaScript regexes cover the usual
 * subset. PCRE's leading `(?i)` (case-insensitive) has no JS spelling, so it becomes the `i` flag.
 */
function compileRegex(pattern: string, text: string, loc: SourceLoc): RegExp {
  let source = pattern;
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new ConfigError(loc, `invalid regex in ${text}: ${(err as Error).message}`);
  }
}

/**
 * The text lighttpd prints for a condition: `$HTTP["host"] == "example.org"`. A `"` is written
 * `\"` (the one escape lighttpd reads back), so that `-p` output (config/print.ts) parses again.
 */
export function conditionText(kind: string, field: string, op: string, value: string): string {
  const quote = (s: string) => `"${s.replace(/"/g, '\\"')}"`;
  return `$${kind}[${quote(field)}] ${op} ${quote(value)}`;
}

/** A key that is equal for two conditions that test the same thing (used to reuse blocks). */
export function conditionKey(c: Condition): string {
  const field = c.kind === 'REQUEST_HEADER' ? c.field.toLowerCase() : c.field;
  return `${c.kind}\u0000${field}\u0000${c.op}\u0000${c.value}`;
}

export function buildCondition(kind: string, field: string, op: string, value: string, loc: SourceLoc): Condition {
  const written = conditionText(kind, field, op, value);
  if (!OPS.has(op)) throw new ConfigError(loc, `unknown condition operator "${op}" in ${written}`);
  let canonical: string;
  if (kind === 'HTTP') {
    const f = HTTP_FIELDS.get(field);
    if (f === undefined) {
      throw new ConfigError(loc, `unknown condition field $HTTP["${field}"] (known: ${[...HTTP_FIELDS.keys()].join(', ')})`);
    }
    canonical = f;
  } else if (kind === 'REQUEST_HEADER') {
    if (!TOKEN_RE.test(field)) throw new ConfigError(loc, `invalid header name in $REQUEST_HEADER["${field}"]`);
    canonical = field;
  } else if (kind === 'SERVER') {
    if (field !== 'socket') throw new ConfigError(loc, `unknown condition field $SERVER["${field}"] (only $SERVER["socket"])`);
    canonical = field;
  } else {
    throw new ConfigError(
      loc,
      `unknown condition $${kind}["${field}"]: lantern supports $HTTP[...], $REQUEST_HEADER[...] and $SERVER["socket"]`,
    );
  }
  const isRegex = op === '=~' || op === '!~';
  let v = value;
  // lighttpd normalises the host of ==, !=, =^, =$ (the request's host is lowercased too).
  if (canonical === 'host' && kind === 'HTTP' && !isRegex) v = v.toLowerCase();
  if (canonical === 'remoteip' && kind === 'HTTP' && (op === '==' || op === '!=') && parseIpMask(v) === null) {
    throw new ConfigError(loc, `invalid IP address or CIDR mask in ${written}`);
  }
  const text = conditionText(kind, field, op, v);
  return {
    kind,
    field: canonical,
    op: op as ConditionOp,
    value: v,
    regex: isRegex ? compileRegex(v, text, loc) : null,
    loc,
    text,
  };
}
