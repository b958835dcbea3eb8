// lighttpd 1.5 mod_proxy_core's proxy-core.rewrite-request and proxy-core.rewrite-response: per
// request header (or `_uri`, `_docroot`, `_pathinfo`, `_scriptname`) a list of regex =>
// replacement rules, applied on proxy-core's upstreamRequest / upstreamResponse hooks.
import { ConfigHash } from '../../config/model.js';
import { isFieldName } from '../../core/http1/response-writer.js';
import type { HeaderList, ResponseHead } from '../../core/http1/types.js';
import type { Request } from '../../core/request.js';
import { joinPath, type CgiPath } from '../proxy-core/cgi-path.js';
import type { ProxyCoreApi } from '../proxy-core/api.js';
import type { UpstreamRequest } from '../proxy-core/types.js';
import { applyRules, badFieldValue, badTarget, compileRuleList, type RuleList } from './rule-list.js';
import { urlPartsOf, whereSet } from './url-rewrite.js';

/** The special names of rewrite-request (lighttpd 1.5). */
const SPECIAL = new Set(['_uri', '_docroot', '_pathinfo', '_scriptname']);

interface FieldRules {
  /** A header name as written, or one of SPECIAL. */
  name: string;
  lower: string;
  rules: RuleList;
}

const compiled = new WeakMap<ConfigHash, FieldRules[]>();

function compile(value: unknown, request: boolean): FieldRules[] | string {
  if (!(value instanceof ConfigHash)) return 'expected ( "Header-Name" => ( "regex" => "replacement", ... ), ... )';
  const out: FieldRules[] = [];
  for (const [name, list] of value.entries) {
    const special = SPECIAL.has(name);
    if (special && !request) return `"${name}" is a request name: proxy-core.rewrite-response takes response header names`;
    if (!special && !isFieldName(name)) return `"${name}" is not a header field name${request ? ' (nor _uri, _docroot, _pathinfo or _scriptname)' : ''}`;
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding') return `"${name}" frames the message and cannot be rewritten`;
    // _docroot, _pathinfo and _scriptname match the decoded path (Unicode), the rest bytes.
    const rules = compileRuleList(list, !(special && name !== '_uri'));
    if (typeof rules === 'string') return `"${name}": ${rules}`;
    out.push({ name, lower, rules });
  }
  return out;
}

export function checkRequestRewrite(value: unknown): string | undefined {
  const r = compile(value, true);
  if (typeof r === 'string') return r;
  compiled.set(value as ConfigHash, r);
  return undefined;
}

export function checkResponseRewrite(value: unknown): string | undefined {
  const r = compile(value, false);
  if (typeof r === 'string') return r;
  compiled.set(value as ConfigHash, r);
  return undefined;
}

function fieldRulesOf(value: ConfigHash, request: boolean): FieldRules[] {
  let r = compiled.get(value);
  if (r === undefined) {
    const c = compile(value, request);
    r = typeof c === 'string' ? [] : c;
    compiled.set(value, r);
  }
  return r;
}

const REQUEST_KEY = 'proxy-core.rewrite-request';
const RESPONSE_KEY = 'proxy-core.rewrite-response';

/** The values of the header lines called `lower`, joined as one (", "), or '' when absent. */
function headerValue(h: HeaderList, lower: string): string | undefined {
  let v: string | undefined;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i]!.toLowerCase() === lower) v = v === undefined ? h[i + 1]! : `${v}, ${h[i + 1]}`;
  }
  return v;
}

/** Replace every line called `lower` by one line (or none when `value` is ''). */
function setHeader(h: HeaderList, name: string, lower: string, value: string): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i < h.length; i += 2) if (h[i]!.toLowerCase() !== lower) out.push(h[i]!, h[i + 1]!);
  if (value !== '') out.push(name, value);
  return out;
}

/**
 * upstreamRequest: rewrite the target, the CGI path split and request headers. A result that
 * is not a valid target or header value is logged with its rule and the request refused: the
 * target is emptied, which proxy-core's G7 check answers with 500 before anything is sent.
 */
export function rewriteUpstreamRequest(up: UpstreamRequest, spec: ConfigHash, log: (m: string) => void): void {
  const req = up.req;
  let cgi: CgiPath | undefined;
  let filenameStale = false;
  for (const f of fieldRulesOf(spec, true)) {
    let subject: string;
    if (f.name === '_uri') subject = up.target;
    else if (f.name === '_docroot') subject = (cgi ?? up.cgi)?.documentRoot ?? req.docRoot;
    else if (f.name === '_pathinfo' || f.name === '_scriptname') subject = req.path;
    else subject = headerValue(up.headers, f.lower) ?? '';
    let r = applyRules(f.rules, subject, req.config.captures, urlPartsOf(req, up.target));
    if (r.kind === 'too-long') { refuse(up, log, `${REQUEST_KEY} "${f.name}": a value of ${subject.length} bytes is longer than rules are matched against`); return; }
    if (r.kind === 'none') continue;
    // An empty replacement: 1.4's "stop here" for _uri, an empty value (removed field) otherwise.
    if (r.kind === 'stop') {
      if (f.name === '_uri') continue;
      r = { kind: 'result', index: r.index, value: '', rule: f.rules[r.index]! };
    }
    const where = `${REQUEST_KEY} "${f.name}" rule "${r.rule.source}" (${whereSet(req.config, REQUEST_KEY)})`;
    if (f.name === '_uri') {
      const bad = badTarget(r.value);
      if (bad !== undefined) { refuse(up, log, `${where}: the result ${JSON.stringify(r.value)} ${bad}`); return; }
      up.target = r.value;
      continue;
    }
    if (SPECIAL.has(f.name)) {
      if (/[\x00-\x1f\x7f]/.test(r.value)) { refuse(up, log, `${where}: the result ${JSON.stringify(r.value)} holds a control character`); return; }
      cgi ??= { ...(up.cgi ?? defaultCgiPath(req)) };
      if (f.name === '_docroot') cgi.documentRoot = r.value;
      else if (f.name === '_pathinfo') cgi.pathInfo = r.value;
      else cgi.scriptName = r.value;
      if (f.name !== '_pathinfo') filenameStale = true;
      continue;
    }
    const bad = badFieldValue(r.value);
    if (bad !== undefined) { refuse(up, log, `${where}: the result for ${f.name} ${bad}`); return; }
    up.headers = setHeader(up.headers, f.name, f.lower, r.value);
  }
  if (cgi !== undefined) {
    if (filenameStale) cgi.scriptFilename = joinPath(cgi.documentRoot, cgi.scriptName);
    cgi.pathTranslated = cgi.pathInfo === '' ? '' : joinPath(cgi.documentRoot, cgi.pathInfo);
    up.cgi = cgi;
  }
}

function refuse(up: UpstreamRequest, log: (m: string) => void, message: string): void {
  log(`${message}; request ${up.req.method} ${JSON.stringify(up.req.target)} refused`);
  up.target = '';
}

/** Without a route's split: SCRIPT_NAME is the whole path (what proxy-core sends then). */
function defaultCgiPath(req: Request): CgiPath {
  return { scriptName: req.path, pathInfo: '', pathTranslated: '', scriptFilename: req.physicalPath, documentRoot: req.docRoot, stripRequestUri: '' };
}

/**
 * upstreamResponse: rewrite response header lines, each line on its own (a backend may send
 * several Set-Cookie). An empty result removes the line. A result with CR, LF, NUL or another
 * control byte is logged with its rule and replaced by a value the core's field check refuses,
 * so the client gets 500 and never a split head.
 */
export function rewriteUpstreamResponse(head: ResponseHead, req: Request, spec: ConfigHash, log: (m: string) => void): void {
  const list = fieldRulesOf(spec, false);
  if (list.length === 0) return;
  const h = head.headers;
  const out: HeaderList = [];
  const url = urlPartsOf(req, req.target);
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    let value = h[i + 1]!;
    const lower = name.toLowerCase();
    const f = list.find((x) => x.lower === lower);
    if (f !== undefined) {
      const r = applyRules(f.rules, value, req.config.captures, url);
      if (r.kind === 'too-long') {
        log(`${RESPONSE_KEY} "${f.name}": a value of ${value.length} bytes is longer than rules are matched against; left as it is`);
      } else if (r.kind === 'stop') {
        continue; // an empty replacement removes the line
      } else if (r.kind === 'result') {
        const bad = badFieldValue(r.value);
        if (bad !== undefined) {
          log(`${RESPONSE_KEY} "${f.name}" rule "${r.rule.source}" (${whereSet(req.config, RESPONSE_KEY)}): the result ${bad}; response refused`);
          value = '\n';
        } else if (r.value === '') {
          continue;
        } else {
          value = r.value;
        }
      }
    }
    out.push(name, value);
  }
  head.headers = out;
}

const X_REWRITE_URI = 'x-rewrite-uri';
const X_REWRITE_HOST = 'x-rewrite-host';
const X_REWRITE_BACKEND = 'x-rewrite-backend';

/**
 * lighttpd 1.5's X-Rewrite-URI / X-Rewrite-Host (proxy-core.allow-x-rewrite): the backend asks
 * for the request to be served again at another target and/or Host. The fields never reach the
 * client. The restart is proxy-core's internal redirect (head.localRedirect): the response is
 * discarded, the method becomes GET (HEAD stays HEAD), and more than 10 restarts answer 500.
 * X-Rewrite-Backend (`host:port`, `[v6]:port`, `unix:/path`) sends the restarted request to that
 * address, with the protocol and options of the backend that was asked (proxy-core's
 * forwardNextTo()). An invalid value is logged and ignored.
 */
export function applyXRewrite(head: ResponseHead, req: Request, api: Pick<ProxyCoreApi, 'forwardNextTo'>, log: (m: string) => void): void {
  const h = head.headers;
  let uri: string | undefined;
  let host: string | undefined;
  let backend: string | undefined;
  const out: HeaderList = [];
  for (let i = 0; i < h.length; i += 2) {
    const lower = h[i]!.toLowerCase();
    if (lower === X_REWRITE_URI) uri = h[i + 1]!.trim();
    else if (lower === X_REWRITE_HOST) host = h[i + 1]!.trim();
    else if (lower === X_REWRITE_BACKEND) backend = h[i + 1]!.trim();
    else { out.push(h[i]!, h[i + 1]!); continue; }
  }
  if (out.length === h.length) return;
  head.headers = out;
  if (uri === undefined && host === undefined && backend === undefined) return;
  if (uri !== undefined) {
    const bad = badTarget(uri);
    if (bad !== undefined) { log(`X-Rewrite-URI ${JSON.stringify(uri)} from the backend ${bad}: ignored`); return; }
  }
  if (host !== undefined && !/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) {
    log(`X-Rewrite-Host ${JSON.stringify(host)} from the backend is not a host: ignored`);
    return;
  }
  if (backend !== undefined) {
    const bad = api.forwardNextTo(req, backend);
    if (bad !== undefined) { log(`X-Rewrite-Backend ${JSON.stringify(backend)} from the backend is not an address (${bad}): ignored`); return; }
  }
  if (host !== undefined) {
    req.host = host.toLowerCase();
    const fields = req.head.headers;
    const next = setHeader(fields, 'Host', 'host', host);
    fields.length = 0;
    for (const x of next) fields.push(x);
  }
  head.localRedirect = uri ?? (req.query === null ? req.pathRaw : `${req.pathRaw}?${req.query}`);
}
