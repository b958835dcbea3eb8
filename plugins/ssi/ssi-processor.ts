// The SSI interpreter (lighttpd mod_ssi process_ssi_stmt): runs the directives of a document and
// of the documents it includes, collecting the output. Variables (`set`) and `config` settings
// are shared with included documents, as in lighttpd; each document has its own if/elif/else
// nesting. A directive that cannot run inserts the errmsg and is logged; nothing throws.
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { symlinkBelow } from '../staticfile/file-check.js';
import { splitDocument, type Directive } from './directive-parser.js';
import { evaluateExpr } from './expr.js';
import { resolveIncludeTarget } from './include-target.js';
import { DEFAULT_TIMEFMT, strftime } from './strftime.js';
import { encodeValue, formatSize, printenvListing, utf8Bytes, type EchoEncoding } from './ssi-values.js';
import { userName } from './user-name.js';

/** Apache's and the task's default error text. */
export const DEFAULT_ERRMSG = '[an error occurred while processing this directive]';

/**
 * The most output one request may build, includes and exec output counted (it is held in memory
 * until sent; a page whose includes fan out could otherwise grow it exponentially).
 */
export const MAX_OUTPUT_BYTES = 128 * 1024 * 1024;

/** Error-log lines one request may write; the rest are counted in one last line. */
const LOG_LINES_MAX = 20;

/** What a run needs from the request and the config. */
export interface SsiEnvironment {
  docRoot: string;
  /** The CGI variables (byte strings), Authorization left out. */
  cgiEnv: ReadonlyMap<string, string>;
  /** Request-wide echo variables (byte strings): SCRIPT_URL, SCRIPT_URI, QUERY_STRING_UNESCAPED. */
  requestVars: ReadonlyMap<string, string>;
  followSymlinks: boolean;
  /** ssi.recursion-max: 0 = virtual includes are inserted unprocessed. */
  recursionMax: number;
  /** ssi.exec. */
  execEnabled: boolean;
  /** Runs an exec command (the document's directory as cwd, at most maxBytes of output kept); resolves with its output. */
  runCommand(cmd: string, cwd: string, maxBytes: number): Promise<{ output: Buffer; error?: string }>;
  /** True once the client went away: stop. */
  cancelled(): boolean;
  /** The output limit (default MAX_OUTPUT_BYTES). */
  maxOutputBytes?: number;
  log(message: string): void;
}

/** One document being processed. */
export interface SsiDocument {
  physicalPath: string;
  uriPath: string;
  stat: fs.Stats;
  /** 0 for the requested document, +1 per virtual include. */
  depth: number;
}

interface IfFrame {
  /** Output was on where this if began. */
  parentActive: boolean;
  /** A branch was already taken. */
  matched: boolean;
}

export class SsiRun {
  /** `<!--#set -->` variables (byte strings). */
  readonly vars = new Map<string, string>();
  timefmt = '';
  sizeAbbrev = false;
  errmsg = DEFAULT_ERRMSG;
  /** Newest mtime of the documents and included files (for ETag/Last-Modified). */
  newestMtimeMs = 0;
  /**
   * Set when the output passed MAX_OUTPUT_BYTES (includes that fan out, or a command that never
   * stops printing): processing stops and the request gets 500.
   */
  tooLarge = false;
  private readonly out: Array<Buffer | string> = [];
  private outBytes = 0;
  private logLines = 0;

  private readonly maxOutputBytes: number;

  constructor(private readonly env: SsiEnvironment) {
    this.maxOutputBytes = env.maxOutputBytes ?? MAX_OUTPUT_BYTES;
  }

  /** Add output; `size` stands for a piece too large to be read (it only trips the limit). */
  private emit(piece: Buffer | string, size = piece.length): void {
    if (this.tooLarge) return;
    this.outBytes += size;
    if (this.outBytes > this.maxOutputBytes) {
      this.tooLarge = true;
      this.out.length = 0;
      this.env.log(`the output passed ${this.maxOutputBytes} bytes: processing stopped`);
      return;
    }
    this.out.push(piece);
  }

  /** The output so far, as bytes. */
  body(): Buffer {
    return Buffer.concat(this.out.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
  }

  /** Writes the count of error lines that were not logged. */
  finish(): void {
    if (this.logLines > LOG_LINES_MAX) this.env.log(`${this.logLines - LOG_LINES_MAX} more SSI errors in this request were not logged`);
  }

  private log(doc: SsiDocument, message: string): void {
    if (++this.logLines <= LOG_LINES_MAX) this.env.log(`${doc.physicalPath}: ${message}`);
  }

  /** Log and insert the errmsg. */
  private error(doc: SsiDocument, message: string): void {
    this.log(doc, message);
    this.emit(this.errmsg);
  }

  /** Process `text` (the document's bytes as latin1). */
  async processDocument(doc: SsiDocument, text: string): Promise<void> {
    if (doc.stat.mtimeMs > this.newestMtimeMs) this.newestMtimeMs = doc.stat.mtimeMs;
    const ifs: IfFrame[] = [];
    let active = true;
    for (const seg of splitDocument(text)) {
      if (this.tooLarge || this.env.cancelled()) return;
      switch (seg.kind) {
        case 'text':
          if (active) this.emit(text.slice(seg.start, seg.end));
          break;
        case 'unterminated':
          if (active) {
            this.log(doc, 'a directive "<!--#" has no closing "-->": the rest of the document is sent as it is');
            this.emit(text.slice(seg.start, seg.end));
          }
          break;
        case 'broken':
          // <!--#comment ... --> is a comment whatever it holds (lighttpd).
          if (/^<!--#comment[ \t\r\n]/.test(seg.source)) break;
          if (active) this.error(doc, `bad directive ${JSON.stringify(seg.source.slice(0, 80))}`);
          break;
        case 'directive': {
          const d = seg.directive;
          switch (d.name) {
            case 'if': {
              const frame: IfFrame = { parentActive: active, matched: false };
              ifs.push(frame);
              if (active) frame.matched = active = this.condition(doc, d);
              break;
            }
            case 'elif': {
              const frame = ifs[ifs.length - 1];
              if (!frame) { if (active) this.error(doc, 'elif without if'); break; }
              if (frame.parentActive && !frame.matched) frame.matched = active = this.condition(doc, d);
              else active = false;
              break;
            }
            case 'else': {
              const frame = ifs[ifs.length - 1];
              if (!frame) { if (active) this.error(doc, 'else without if'); break; }
              active = frame.parentActive && !frame.matched;
              frame.matched = true;
              break;
            }
            case 'endif': {
              const frame = ifs.pop();
              if (!frame) { if (active) this.error(doc, 'endif without if'); break; }
              active = frame.parentActive;
              break;
            }
            default:
              if (active) await this.run(doc, d);
          }
        }
      }
    }
    if (ifs.length > 0) this.log(doc, `${ifs.length} if without endif at the end of the document`);
  }

  /** An if/elif condition; a bad or missing expression is false (and the errmsg goes out). */
  private condition(doc: SsiDocument, d: Directive): boolean {
    const expr = attr(d, 'expr');
    if (expr === undefined || d.attrs.length !== 1) {
      this.error(doc, `${d.name} needs exactly one attribute, expr`);
      return false;
    }
    const r = evaluateExpr(expr, (name) => this.lookup(doc, name) ?? '');
    if (!r.ok) {
      this.error(doc, `${d.name} expr=${JSON.stringify(expr)}: ${r.error}`);
      return false;
    }
    return r.value;
  }

  /** A variable: the CGI ones, then `set` ones, then the echo-only ones; undefined when unknown. */
  private lookup(doc: SsiDocument, name: string): string | undefined {
    return this.env.cgiEnv.get(name) ?? this.vars.get(name) ?? this.special(doc, name);
  }

  private formatTime(ms: number, local: boolean): string {
    const s = strftime(this.timefmt === '' ? DEFAULT_TIMEFMT : this.timefmt, ms, local);
    return s === '' ? '(none)' : utf8Bytes(s);
  }

  /** DATE_*, DOCUMENT_*, LAST_MODIFIED, USER_NAME and the request-wide echo variables. */
  private special(doc: SsiDocument, name: string): string | undefined {
    switch (name) {
      case 'DATE_LOCAL': return this.formatTime(Date.now(), true);
      case 'DATE_GMT': return this.formatTime(Date.now(), false);
      case 'DOCUMENT_NAME': return utf8Bytes(path.basename(doc.physicalPath));
      case 'DOCUMENT_URI': return utf8Bytes(doc.uriPath);
      case 'LAST_MODIFIED': return this.formatTime(doc.stat.mtimeMs, true);
      case 'USER_NAME': return utf8Bytes(userName(doc.stat.uid));
      default: return this.env.requestVars.get(name);
    }
  }

  private async run(doc: SsiDocument, d: Directive): Promise<void> {
    switch (d.name) {
      case 'echo': return this.echo(doc, d);
      case 'include': case 'fsize': case 'flastmod': return this.fileDirective(doc, d);
      case 'config': return this.config(doc, d);
      case 'set': {
        const name = attr(d, 'var');
        const value = attr(d, 'value');
        if (name === undefined || value === undefined || d.attrs.length !== 2) return this.error(doc, 'set needs var and value');
        this.vars.set(name, value);
        return;
      }
      case 'printenv':
        if (d.attrs.length > 0) return this.error(doc, 'printenv takes no attribute');
        this.emit(printenvListing([this.vars, this.env.cgiEnv]));
        return;
      case 'exec': return this.exec(doc, d);
      case 'comment': return;
      default: return this.error(doc, `unknown directive "${d.name}"`);
    }
  }

  private echo(doc: SsiDocument, d: Directive): void {
    let encoding: EchoEncoding = 'none';
    const names: string[] = [];
    for (const [k, v] of d.attrs) {
      if (k === 'var') names.push(v);
      else if (k === 'encoding' && (v === 'none' || v === 'url' || v === 'entity')) encoding = v;
      else return this.error(doc, `echo: bad attribute ${k}="${v}"`);
    }
    if (names.length === 0) return this.error(doc, 'echo: var is missing');
    for (const name of names) this.emit(encodeValue(this.lookup(doc, name) ?? '(none)', encoding));
  }

  private config(doc: SsiDocument, d: Directive): void {
    if (d.attrs.length === 0) return this.error(doc, 'config needs timefmt, sizefmt or errmsg');
    for (const [k, v] of d.attrs) {
      if (k === 'timefmt') this.timefmt = fromBytes(v);
      else if (k === 'errmsg') this.errmsg = v;
      else if (k === 'sizefmt' && (v === 'bytes' || v === 'abbrev')) this.sizeAbbrev = v === 'abbrev';
      else return this.error(doc, `config: bad attribute ${k}="${v}"`);
    }
  }

  /** include, fsize, flastmod with file= or virtual=. */
  private async fileDirective(doc: SsiDocument, d: Directive): Promise<void> {
    if (d.attrs.length !== 1 || (d.attrs[0]![0] !== 'file' && d.attrs[0]![0] !== 'virtual')) {
      return this.error(doc, `${d.name} needs one attribute, file or virtual`);
    }
    const [kind, value] = d.attrs[0] as ['file' | 'virtual', string];
    const target = resolveIncludeTarget(kind, value, doc, this.env.docRoot);
    if (!target.ok) return this.error(doc, `${d.name}: ${target.reason}`);
    let st: fs.Stats;
    try {
      if (!this.env.followSymlinks) {
        const link = await symlinkBelow(target.physicalPath, this.env.docRoot);
        if (link) return this.error(doc, `${d.name}: symlink ${link} (server.follow-symlink disabled)`);
      }
      st = await fs.promises.stat(target.physicalPath);
    } catch (err) {
      return this.error(doc, `${d.name}: stating ${target.physicalPath} failed: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    if (!st.isFile()) return this.error(doc, `${d.name}: ${target.physicalPath} is not a regular file`);
    if (d.name === 'fsize') { this.emit(formatSize(st.size, this.sizeAbbrev)); return; }
    if (d.name === 'flastmod') { this.emit(this.formatTime(st.mtimeMs, true)); return; }
    if (st.mtimeMs > this.newestMtimeMs) this.newestMtimeMs = st.mtimeMs;
    // A file that cannot fit is not read at all.
    if (this.outBytes + st.size > this.maxOutputBytes) { this.emit('', st.size); return; }
    let content: Buffer;
    try {
      content = await fs.promises.readFile(target.physicalPath);
    } catch (err) {
      return this.error(doc, `include: reading ${target.physicalPath} failed: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    if (kind === 'file' || this.env.recursionMax === 0) { this.emit(content); return; }
    if (doc.depth >= this.env.recursionMax) {
      this.log(doc, `include virtual="${target.uriPath}": deeper than ssi.recursion-max (${this.env.recursionMax})`);
      this.emit('(error: include directives recurse deeper than pre-defined ssi.recursion-max)');
      return;
    }
    if (target.physicalPath === doc.physicalPath) {
      this.log(doc, `include virtual="${target.uriPath}" includes itself`);
      this.emit('(error: include directives create an infinite loop)');
      return;
    }
    await this.processDocument({ physicalPath: target.physicalPath, uriPath: target.uriPath, stat: st, depth: doc.depth + 1 }, content.toString('latin1'));
  }

  private async exec(doc: SsiDocument, d: Directive): Promise<void> {
    const cmd = attr(d, 'cmd');
    if (cmd === undefined || d.attrs.length !== 1) return this.error(doc, 'exec needs one attribute, cmd (exec cgi is not supported)');
    if (!this.env.execEnabled) return this.error(doc, 'exec is disabled (ssi.exec)');
    const r = await this.env.runCommand(fromBytes(cmd), path.dirname(doc.physicalPath), this.maxOutputBytes - this.outBytes + 1);
    if (r.error !== undefined) this.log(doc, `exec ${JSON.stringify(cmd)}: ${r.error}`);
    this.emit(r.output);
  }
}

/** The value of the first attribute `name`. */
function attr(d: Directive, name: string): string | undefined {
  for (const [k, v] of d.attrs) if (k === name) return v;
  return undefined;
}

/** A byte string from the document as the Unicode text it encodes (UTF-8, else latin1). */
function fromBytes(bytes: string): string {
  const b = Buffer.from(bytes, 'latin1');
  const s = b.toString('utf8');
  return s.includes('\ufffd') ? bytes : s;
}
