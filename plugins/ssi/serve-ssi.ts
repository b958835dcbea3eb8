// Answering a GET/HEAD for an SSI document (lighttpd mod_ssi_handle_request): check the file,
// run its directives, then send the output with its own length, Content-Type from
// ssi.content-type (else mimetype.assign, else text/html), and with ssi.conditional-requests
// an ETag and Last-Modified from the newest of the document and its includes (RFC 9110 §13).
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigHash } from '../../config/model.js';
import type { HeaderList } from '../../core/http1/types.js';
import type { Request } from '../../core/request.js';
import { buildCgiEnv } from '../proxy-core/cgi-env.js';
import { evaluatePreconditions } from '../staticfile/conditional.js';
import { makeETag, type ETagFlags } from '../staticfile/etag.js';
import { formatHttpDate } from '../staticfile/http-date.js';
import { physicalTargetOrAnswer } from '../staticfile/serve-file.js';
import { runShellCommand } from './exec-command.js';
import { MAX_OUTPUT_BYTES, SsiRun, type SsiEnvironment } from './ssi-processor.js';
import { queryStringUnescaped } from './ssi-values.js';

export interface SsiSettings {
  /** ssi.content-type ('' = not set). */
  contentType: string;
  conditionalRequests: boolean;
  exec: boolean;
  recursionMax: number;
  followSymlinks: boolean;
  /** mimetype.assign (a ConfigHash) or undefined. */
  mimeAssign: unknown;
  /** The etag.use-* parts (staticfile's options). */
  etag: ETagFlags;
}


/** The CGI variables for the document (lighttpd build_ssi_cgi_vars): Authorization is left out. */
function cgiVariables(req: Request): Map<string, string> {
  const env = new Map<string, string>();
  for (const [k, v] of buildCgiEnv({ req, method: req.method, target: req.target, bodyLength: 0 })) {
    if (k !== 'HTTP_AUTHORIZATION') env.set(k, v);
  }
  return env;
}

/** SCRIPT_URL, SCRIPT_URI (lighttpd: the query appended when there is one) and QUERY_STRING_UNESCAPED. */
function requestVariables(req: Request): Map<string, string> {
  const url = req.pathRaw + (req.query !== null && req.query !== '' ? '?' + req.query : '');
  const vars = new Map<string, string>([['SCRIPT_URL', url], ['QUERY_STRING_UNESCAPED', queryStringUnescaped(req.query ?? '')]]);
  if (req.host !== '') vars.set('SCRIPT_URI', `${req.scheme}://${req.host}${url}`);
  return vars;
}

/** The process environment plus the CGI variables, for exec'd commands (Apache passes them too). */
function commandEnv(cgi: ReadonlyMap<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of cgi) env[k] = Buffer.from(v, 'latin1').toString('utf8');
  return env;
}

/** Answer `req` with its processed document. Never throws. */
export async function serveSsi(req: Request, s: SsiSettings, logError: (msg: string) => void): Promise<void> {
  const target = await physicalTargetOrAnswer(req, s.followSymlinks, logError);
  if (target === null) return;
  if (target.kind !== 'file') { req.sendError(403, 'LT_ERR_FORBIDDEN'); return; }
  if (target.stat.size > MAX_OUTPUT_BYTES) {
    logError(`${target.path}: ${target.stat.size} bytes, more than an SSI page may have (${MAX_OUTPUT_BYTES})`);
    req.sendError(500, 'LT_ERR_INTERNAL');
    return;
  }
  let text: string;
  try {
    text = (await fs.promises.readFile(target.path)).toString('latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    logError(`open(): ${target.path}: ${code ?? err}`);
    req.sendError(code === 'ENOENT' ? 404 : code === 'EACCES' ? 403 : 500);
    return;
  }
  if (req.finished) return;

  const cgiEnv = cgiVariables(req);
  let cancelled = false;
  const cancelCallbacks: Array<() => void> = [];
  req.onAbort(() => { cancelled = true; for (const cb of cancelCallbacks) cb(); });
  const env: SsiEnvironment = {
    docRoot: req.docRoot,
    cgiEnv,
    requestVars: requestVariables(req),
    followSymlinks: s.followSymlinks,
    recursionMax: s.recursionMax,
    execEnabled: s.exec,
    async runCommand(cmd, cwd, maxBytes) {
      const r = await runShellCommand(cmd, cwd, commandEnv(cgiEnv), maxBytes, (cb) => cancelCallbacks.push(cb));
      let error: string | undefined;
      if (r.spawnError !== undefined) error = `spawning failed: ${r.spawnError}`;
      else if (r.code !== 0) error = `exited with ${r.code === null ? 'a signal' : `code ${r.code}`}`;
      if (r.stderr !== '') error = (error ? error + '; ' : '') + `stderr: ${r.stderr.trimEnd()}`;
      return { output: r.stdout, error };
    },
    cancelled: () => cancelled,
    log: logError,
  };
  const run = new SsiRun(env);
  await run.processDocument({ physicalPath: target.path, uriPath: req.path, stat: target.stat, depth: 0 }, text);
  run.finish();
  if (req.finished) return;
  if (run.tooLarge) { req.sendError(500, 'LT_ERR_INTERNAL'); return; }

  const headers: HeaderList = ['Content-Type', contentType(target.path, s)];
  if (s.conditionalRequests) {
    const newest = Math.max(run.newestMtimeMs, target.stat.mtimeMs);
    const etag = makeETag({ ino: target.stat.ino, size: target.stat.size, mtimeMs: newest }, s.etag);
    if (etag !== null) headers.push('ETag', etag);
    headers.push('Last-Modified', formatHttpDate(newest));
    const pre = evaluatePreconditions(req.method, (n) => req.header(n), { etag, lastModifiedMs: newest });
    if (pre === 304) { req.respond(304, headers.slice(2)); return; }
    if (pre === 412) { req.sendError(412); return; }
  }
  req.respond(200, headers, run.body());
}

/**
 * ssi.content-type; else the mimetype.assign entry for the file's name, not counting the ""
 * catch-all (lighttpd always sends text/html when ssi.content-type is unset; a user who mapped
 * ".shtml" expects that mapping); else text/html.
 */
function contentType(file: string, s: SsiSettings): string {
  if (s.contentType !== '') return s.contentType;
  if (s.mimeAssign instanceof ConfigHash) {
    const base = path.basename(file).toLowerCase();
    let best = '';
    let type = '';
    for (const [key, value] of s.mimeAssign.entries) {
      const k = key.toLowerCase();
      if (k !== '' && typeof value === 'string' && base.endsWith(k) && k.length >= best.length) { best = k; type = value; }
    }
    if (type !== '') return type;
  }
  return 'text/html';
}
