// The SCRIPT_NAME / PATH_INFO split (RFC 3875 §4.1.5, §4.1.13) for a CGI-family backend, as
// lighttpd 1.4 makes it: gw_backend.c gw_check_extension() for a "/prefix" key with check-local
// disabled, response.c http_response_physical_pathinfo() (the longest existing regular file of the
// path) when check-local is enabled, and the docroot / broken-scriptfilename rules of
// http_cgi.c http_cgi_headers().
import type { Request } from '../../core/request.js';
import type { StatCache } from '../../core/stat-cache.js';
import { statusForErrno } from '../staticfile/file-check.js';

/** How a CGI-family backend was chosen for a request, and its path options (lighttpd's gw.server keys). */
export interface GatewayRoute {
  /** The key that matched: "/prefix" (starts with "/"), ".ext" (suffix), or "" (every path). */
  key: string;
  /** check-local (default true): the script must exist under the document root, else 404. */
  checkLocal: boolean;
  /** fix-root-scriptname: for the prefix "/", SCRIPT_NAME is "" and PATH_INFO the whole path. */
  fixRootScriptname: boolean;
  /**
   * strip-request-uri: a prefix removed from REQUEST_URI when the original target starts with it
   * followed by "/" (`/app1` or `/app1/` turns `/app1/index/list` into `/index/list`). '' = none.
   */
  stripRequestUri: string;
  /** docroot: the document root sent to the backend instead of the request's (DOCUMENT_ROOT, SCRIPT_FILENAME, PATH_TRANSLATED). '' = the request's. */
  docroot: string;
  /**
   * broken-scriptfilename: SCRIPT_FILENAME is the script's file name followed by PATH_INFO, as PHP
   * with cgi.fix_pathinfo = 1 expects in order to find PATH_INFO itself. No effect with docroot.
   */
  brokenScriptFilename: boolean;
  /**
   * Suffixes `<module>.map-extensions` maps onto this key (".php3" for ".php"): a script ending
   * with one is this key's as well. Default: none.
   */
  mappedSuffixes?: readonly string[];
}

/** Whether the script part of a path belongs to the route's key (gw_check_extension() after the split). */
function scriptMatchesKey(route: GatewayRoute, scriptName: string): boolean {
  const key = route.key;
  if (key === '') return true;
  if (key.charCodeAt(0) === 47) return scriptName.startsWith(key);
  if (scriptName.endsWith(key)) return true;
  const mapped = route.mappedSuffixes;
  if (mapped !== undefined) for (const suffix of mapped) if (scriptName.endsWith(suffix)) return true;
  return false;
}

/**
 * The path meta-variables for one request. The strings are Unicode, like req.path and
 * req.docRoot; buildCgiEnv() turns them into UTF-8 byte strings.
 */
export interface CgiPath {
  /** SCRIPT_NAME: the URL path of the script ('' with fix-root-scriptname). */
  scriptName: string;
  /** PATH_INFO: the rest of the decoded path after the script; '' = none. */
  pathInfo: string;
  /** PATH_TRANSLATED: the document root sent + PATH_INFO; '' when PATH_INFO is ''. */
  pathTranslated: string;
  /** SCRIPT_FILENAME: the script's file (with PATH_INFO appended under broken-scriptfilename). */
  scriptFilename: string;
  /** DOCUMENT_ROOT: the route's docroot, else the request's. */
  documentRoot: string;
  /** The strip-request-uri prefix without its trailing "/", '' = none (applied by buildCgiEnv). */
  stripRequestUri: string;
}

/** Why no script was found: the status to answer with. */
export interface CgiPathRefusal {
  status: number;
}

/** Join two file system path parts with exactly one "/" between them (lighttpd buffer_copy_path_len2). */
export function joinPath(dir: string, rest: string): string {
  if (rest === '') return dir;
  if (dir === '') return rest;
  const dirSlash = dir.charCodeAt(dir.length - 1) === 47;
  const restSlash = rest.charCodeAt(0) === 47;
  if (dirSlash && restSlash) return dir + rest.slice(1);
  return dirSlash || restSlash ? dir + rest : dir + '/' + rest;
}

/**
 * Where req.path sits at the end of req.physicalPath (lighttpd's basedir): normally
 * physicalPath is docRoot + path and the whole path is the tail; after a physical-phase plugin
 * mapped a prefix elsewhere (an alias), only the common tail can be walked. `base`: where that
 * tail starts in physical, `tail`: where it starts in path; null: nothing in common.
 */
function tailStart(physical: string, path: string): { base: number; tail: number } | null {
  if (physical.endsWith(path)) return { base: physical.length - path.length, tail: 0 };
  // The longest common suffix that starts with "/" in both.
  let k = 0;
  const pl = physical.length;
  const ul = path.length;
  while (k < pl && k < ul && physical.charCodeAt(pl - 1 - k) === path.charCodeAt(ul - 1 - k)) k++;
  while (k > 0 && path.charCodeAt(ul - k) !== 47) k--;
  if (k === 0) return null;
  return { base: pl - k, tail: ul - k };
}

/**
 * The split for this request (an async stat per path segment at most, none for what the server's
 * stat cache saw in the last second; a missing file is always looked up again), or the status to
 * answer with. With check-local disabled no file is looked at: splitCgiPath() answers at once.
 */
export async function resolveCgiPath(req: Request, route: GatewayRoute, cache: StatCache): Promise<CgiPath | CgiPathRefusal> {
  if (!route.checkLocal) return splitCgiPath(req, route);
  const path = req.path;
  const found = await findScript(req.physicalPath, path, cache);
  if ('status' in found) return found;
  const pathInfo = found.pathInfo;
  const scriptName = pathInfo === '' ? path : path.slice(0, path.length - pathInfo.length);
  // gw_check_extension() runs after the split: the key must match the script, not the path
  // (so `/upload/a.png/x.php` never runs a.png through the ".php" backend).
  if (!scriptMatchesKey(route, scriptName)) return { status: 404 };
  return cgiPathOf(req, route, scriptName, pathInfo, found.scriptFile);
}

/** The split when check-local is disabled (no file system access): lighttpd's gw_check_extension(). */
export function splitCgiPath(req: Request, route: GatewayRoute): CgiPath {
  const path = req.path;
  const key = route.key;
  let scriptName = path;
  let pathInfo = '';
  if (key.charCodeAt(0) === 47) {
    if (key.length === 1 && route.fixRootScriptname) {
      scriptName = '';
      pathInfo = path;
    } else if (path.length > key.length && path.startsWith(key)) {
      // gw_check_extension(): SCRIPT_NAME runs to the first "/" at or after the end of the key
      // ("/admin.gw" + "/foo/bar"; "/cgi-bin/" + "foo" + "/bar").
      const slash = path.indexOf('/', key.length);
      if (slash > 0) {
        scriptName = path.slice(0, slash);
        pathInfo = path.slice(slash);
      }
    }
  }
  // With check-local disabled lighttpd's physical path is made from the shortened uri.path.
  const physical = req.physicalPath;
  const at = physical === '' ? null : tailStart(physical, path);
  // The whole path with no PATH_INFO: the script is the physical path itself.
  const scriptFile = at === null ? joinPath(req.docRoot, scriptName)
    : at.tail === 0 && pathInfo === '' ? physical
    : physical.slice(0, at.base) + path.slice(at.tail, path.length - pathInfo.length);
  return cgiPathOf(req, route, scriptName, pathInfo, scriptFile);
}

/** The meta-variables of a split: the route's docroot, strip-request-uri and broken-scriptfilename applied. */
function cgiPathOf(req: Request, route: GatewayRoute, scriptName: string, pathInfo: string, scriptFile: string): CgiPath {
  const strip = route.stripRequestUri;
  const stripRequestUri = strip.length > 1 && strip.charCodeAt(strip.length - 1) === 47 ? strip.slice(0, -1) : strip;
  if (route.docroot !== '') {
    // http_cgi_headers() with an alternate docroot (a remote backend): every file name is made
    // from it; broken-scriptfilename does not apply.
    const root = route.docroot;
    return {
      scriptName, pathInfo, stripRequestUri,
      pathTranslated: pathInfo === '' ? '' : joinPath(root, pathInfo),
      scriptFilename: joinPath(root, scriptName),
      documentRoot: root,
    };
  }
  return {
    scriptName, pathInfo, stripRequestUri,
    pathTranslated: pathInfo === '' ? '' : joinPath(req.docRoot, pathInfo),
    scriptFilename: route.brokenScriptFilename ? joinPath(scriptFile, pathInfo) : scriptFile,
    documentRoot: req.docRoot,
  };
}

/** A stat failure as lighttpd's http_response_physical_path_check() answers it. */
function statFailure(err: unknown): CgiPathRefusal | 'pathinfo' {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  // A component of the path is a file: PATH_INFO follows it.
  if (code === 'ENOTDIR') return 'pathinfo';
  // A NUL in the path (ERR_INVALID_ARG_VALUE) names no file.
  if (code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_ARG_TYPE') return { status: 404 };
  // POSIX: a missing file is 404 at once, without a walk (only ENOTDIR means path info).
  return { status: statusForErrno(code) };
}

/**
 * check-local: the script is physical path itself when it is a regular file; else, when a
 * component of it is a file (ENOTDIR), the first non-directory walking down from the document
 * root, which must be a regular file, and the rest is PATH_INFO (response.c
 * http_response_physical_pathinfo). At most one stat per segment below the document root; never
 * one above it (req.path is normalised: no dot segments).
 */
async function findScript(physical: string, path: string, cache: StatCache): Promise<{ scriptFile: string; pathInfo: string } | CgiPathRefusal> {
  // No document root: nothing local to find (a configuration error, as lighttpd refuses to start).
  if (physical === '') return { status: 500 };
  try {
    // lighttpd would redirect a directory to its "/" form or leave it to the index file or
    // directory listing; it is never a script: unhandled, 403 (http_response_prepare_unhandled).
    return (await cache.kind(physical)) === 'file' ? { scriptFile: physical, pathInfo: '' } : { status: 403 };
  } catch (err) {
    const failure = statFailure(err);
    if (failure !== 'pathinfo') return failure;
  }
  const at = tailStart(physical, path);
  if (at === null) return { status: 404 };
  // Walk down: "/srv/www/app", "/srv/www/app/index.php" (a file: stop; "/x/y" is PATH_INFO).
  for (let i = path.indexOf('/', at.tail + 1); i > 0; i = path.indexOf('/', i + 1)) {
    const candidate = physical.slice(0, at.base + (i - at.tail));
    let isDir: boolean;
    try {
      const kind = await cache.kind(candidate);
      if (kind === 'file') return { scriptFile: candidate, pathInfo: path.slice(i) };
      isDir = kind === 'dir';
    } catch {
      // lighttpd: a prefix that cannot be stat'ed (whatever the reason) ends the walk on a
      // directory, which takes no path info: not found.
      return { status: 404 };
    }
    // PATH_INFO only after a regular file (lighttpd's S_ISREG rule): a device or socket is not a script.
    if (!isDir) return { status: 404 };
  }
  // Every prefix is a directory (the tree changed between the stats).
  return { status: 404 };
}
