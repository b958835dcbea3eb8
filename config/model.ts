// The one config model both syntaxes produce (design.md §4): global options plus a tree of
// condition blocks. lighttpd.conf (config/lighttpd/) and native JSON/YAML/JS (config/native.ts)
// are both turned into this; per request the matching blocks are merged once (config/merge.ts).

/** Where a key or condition was written. `line` is 1-based; 0 when the source has no lines. */
export interface SourceLoc {
  file: string;
  line: number;
}

/**
 * A config value. lighttpd has strings, integers, booleans ("enable"/"disable" stay strings
 * until a plugin's schema reads them), lists `( "a", "b" )` and hashes `( "k" => v )`.
 * A hash is a ConfigHash so that key order is kept exactly (a JS object would reorder "404").
 */
export type ConfigValue = string | number | boolean | ConfigValue[] | ConfigHash;

/** An ordered key => value array of lighttpd (`( ".html" => "text/html" )`). */
export class ConfigHash {
  readonly entries: Array<[string, ConfigValue]>;
  constructor(entries: Array<[string, ConfigValue]> = []) { this.entries = entries; }
  get(key: string): ConfigValue | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i][0] === key) return this.entries[i][1];
    return undefined;
  }
  has(key: string): boolean { return this.get(key) !== undefined; }
  keys(): string[] { return this.entries.map((e) => e[0]); }
  get size(): number { return this.entries.length; }
  toJSON(): Record<string, unknown> { return Object.fromEntries(this.entries); }
}

export interface ConfigEntry {
  /** The full key, e.g. `server.document-root`. */
  key: string;
  value: ConfigValue;
  loc: SourceLoc;
  /**
   * Where each element of a list value was written (lighttpd syntax), so that a message about one
   * element (an unknown module of server.modules) names its own line; absent for other values
   * and for sources without lines. Values whose origin is unknown have the entry's `loc`.
   */
  itemLocs?: SourceLoc[];
}

export type ConditionOp = '==' | '!=' | '=~' | '!~' | '=^' | '=$';

/**
 * One condition of a block: `$HTTP["host"] == "example.org"`, `$REQUEST_HEADER["X-Foo"] =~ "^a"`,
 * `$SERVER["socket"] == ":8443"`.
 */
export interface Condition {
  /** `HTTP`, `REQUEST_HEADER` or `SERVER` (lighttpd also accepts `$PHYSICAL` etc.; we reject them). */
  kind: 'HTTP' | 'REQUEST_HEADER' | 'SERVER';
  /**
   * For HTTP: host, url, querystring, remoteip, scheme, request-method, referer, useragent, cookie,
   * language. For REQUEST_HEADER: the header name (case-insensitive). For SERVER: `socket`.
   */
  field: string;
  op: ConditionOp;
  /** The right-hand side, after string concatenation and variable expansion. */
  value: string;
  /** Compiled pattern for `=~` / `!~`. */
  regex: RegExp | null;
  loc: SourceLoc;
  /** The condition as lighttpd would print it, e.g. `$HTTP["host"] == "a"`. */
  text: string;
}

export interface ConfigBlock {
  /** Null for the root (global scope) and for a plain `else { }`. */
  condition: Condition | null;
  /** Assignments in this block in order; later entries for the same key win. */
  entries: ConfigEntry[];
  /** Nested condition blocks (only heads of else chains appear here). */
  children: ConfigBlock[];
  /** The next link of an `else` chain: evaluated only when this block's condition is false. */
  else: ConfigBlock | null;
  /** Unique, dense index over the whole tree (0 = root); used for caching merges. */
  id: number;
  /** Where the block starts. */
  loc: SourceLoc;
}

export interface ConfigModel {
  /** The main config file, or `<embedded>` for the built-in default. */
  file: string;
  /** 'lighttpd' for .conf, 'native' for JSON/YAML/JS. */
  syntax: 'lighttpd' | 'native';
  root: ConfigBlock;
  /** Total number of blocks in the tree (ids are 0..blockCount-1). */
  blockCount: number;
  /** Non-fatal findings (unknown keys are added later by the plugin host). */
  warnings: string[];
}

/** A config error: stops the start. Printed as `file:line: message`. */
export class ConfigError extends Error {
  readonly loc: SourceLoc;
  readonly detail: string;
  constructor(loc: SourceLoc, detail: string) {
    super(`${loc.file}:${loc.line}: ${detail}`);
    this.loc = loc;
    this.detail = detail;
  }
}

/** Several config errors found in one pass (every unknown module): one `file:line: message` line each. */
export class ConfigErrorList extends ConfigError {
  readonly errors: ConfigError[];
  constructor(errors: ConfigError[]) {
    super(errors[0]!.loc, errors[0]!.detail);
    this.errors = errors;
    this.message = errors.map((e) => e.message).join('\n');
  }
}

/** The request facts conditions are evaluated against. */
export interface ConditionContext {
  host: string;
  /** The decoded, normalised URL path (lighttpd's $HTTP["url"]), without the query. */
  url: string;
  querystring: string;
  remoteip: string;
  scheme: string;
  method: string;
  /** Case-insensitive header lookup; repeated fields joined with ", " (Cookie with "; "). */
  header(name: string): string | undefined;
  /** The listener the request came in on, as lighttpd writes it: `127.0.0.1:8080`, `[::1]:80`, `/tmp/sock`. */
  serverSocket: string;
}

/** The result of merging the blocks that match one request. */
export interface MergedConfig {
  /** Key → value after applying global and every matching block in document order. */
  values: Map<string, ConfigValue>;
  /** Where each value came from. */
  locs: Map<string, SourceLoc>;
  /** Captures of the last matching regex condition (%0..%9), per lighttpd. */
  captures: string[];
  /** Ids of the blocks that matched (root first). */
  matched: number[];
}
