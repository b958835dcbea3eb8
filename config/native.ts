// Native config format (JSON, YAML, JS modules; design.md §4) → the shared ConfigModel, and the
// cosmiconfig search for it. Keys are lighttpd's (`"server.port": 8080`); a dot-less top-level key
// with an object value is a namespace (`server: { port: 8080 }`); `$...` keys and a `conditions`
// list make condition blocks. Format reference: docs/configuration.md, "Native format".
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import { parseConditionText } from './lighttpd/parser.js';
import {
  ConfigError, ConfigHash,
  type Condition, type ConfigBlock, type ConfigModel, type ConfigValue, type SourceLoc,
} from './model.js';
import { readObjectSource, readTextSource, type SourceMap, type SourceNode, type SourcePair } from './native-source.js';

export interface NativeLoadOptions {
  /** Environment for `env.NAME` in condition values; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directory a relative `file` is read from; default process.cwd(). */
  cwd?: string;
}

/** Where searchNativeConfig looks, in this order, in the given directory only. */
export const NATIVE_SEARCH_PLACES: readonly string[] = [
  'lantern.config.json', 'lantern.config.yaml', 'lantern.config.yml',
  'lantern.config.js', 'lantern.config.mjs', 'lantern.config.cjs',
  '.lanternrc',
  '.lanternrc.json', '.lanternrc.yaml', '.lanternrc.yml',
  '.lanternrc.js', '.lanternrc.mjs', '.lanternrc.cjs',
  'package.json',
];

/** The key under which a condition list is written. */
const CONDITIONS_KEY = 'conditions';

class NativeBuilder {
  private readonly blocks: ConfigBlock[] = [];

  constructor(private readonly file: string, private readonly opts: NativeLoadOptions) {}

  build(tree: SourceNode | null): ConfigModel {
    const root = this.addBlock(null, this.loc(tree?.line ?? 0));
    if (tree !== null && !(tree.t === 'scalar' && tree.value === null)) {
      this.fill(root, this.asMap(tree, 'the config'));
    }
    return { file: this.file, syntax: 'native', root, blockCount: this.blocks.length, warnings: [] };
  }

  private loc(line: number): SourceLoc {
    return { file: this.file, line };
  }

  private fail(line: number, message: string): never {
    throw new ConfigError(this.loc(line), message);
  }

  private addBlock(condition: Condition | null, loc: SourceLoc): ConfigBlock {
    const b: ConfigBlock = { condition, entries: [], children: [], else: null, id: this.blocks.length, loc };
    this.blocks.push(b);
    return b;
  }

  private asMap(node: SourceNode, what: string): SourceMap {
    if (node.t !== 'map') this.fail(node.line, `${what} must be an object`);
    return node;
  }

  /** One block's object: entries, namespaces, `$...` condition keys and the `conditions` list. */
  private fill(block: ConfigBlock, map: SourceMap): void {
    const seen = new Map<string, number>();
    const add = (key: string, value: SourceNode, line: number): void => {
      const first = seen.get(key);
      if (first !== undefined) this.fail(line, `duplicate key "${key}" (first set on line ${first})`);
      seen.set(key, line);
      block.entries.push({ key, value: this.value(value, key), loc: this.loc(line) });
    };
    for (const pair of map.pairs) {
      if (pair.key.startsWith('$')) {
        const child = this.addBlock(this.condition(pair.key, pair.line), this.loc(pair.line));
        block.children.push(child);
        this.fill(child, this.asMap(pair.value, `the block of ${pair.key}`));
      } else if (pair.key === CONDITIONS_KEY) {
        if (pair.value.t !== 'seq') this.fail(pair.line, `"${CONDITIONS_KEY}" must be a list of { "if": ..., "then": {...} } objects`);
        for (const item of pair.value.items) block.children.push(this.chain(this.asMap(item, `an item of "${CONDITIONS_KEY}"`)));
      } else if (pair.key.includes('.')) {
        add(pair.key, pair.value, pair.line);
      } else if (pair.value.t === 'map') {
        // A namespace: { "server": { "port": 8080 } } is server.port.
        for (const sub of pair.value.pairs) {
          if (sub.key.startsWith('$') || sub.key === '') this.fail(sub.line, `"${sub.key}" is not a valid key inside the namespace "${pair.key}"`);
          add(`${pair.key}.${sub.key}`, sub.value, sub.line);
        }
      } else {
        this.fail(pair.line, `"${pair.key}" is not a config key: write the full key (like "server.port") or make "${pair.key}" an object of keys`);
      }
    }
  }

  /** `{ "if": "$HTTP[...] ...", "then": {...}, "else": {...} | { "if": ... } }` → an else chain. */
  private chain(item: SourceMap): ConfigBlock {
    let cond: SourcePair | undefined;
    let then: SourcePair | undefined;
    let otherwise: SourcePair | undefined;
    for (const p of item.pairs) {
      if (p.key === 'if') cond = p;
      else if (p.key === 'then') then = p;
      else if (p.key === 'else') otherwise = p;
      else this.fail(p.line, `unknown key "${p.key}" in a condition (use "if", "then" and "else")`);
    }
    if (!cond) this.fail(item.line, 'a condition needs an "if"');
    if (cond.value.t !== 'scalar' || typeof cond.value.value !== 'string') this.fail(cond.line, '"if" must be a condition string like "$HTTP[\\"host\\"] == \\"example.org\\""');
    const block = this.addBlock(this.condition(cond.value.value, cond.line), this.loc(cond.line));
    if (then) this.fill(block, this.asMap(then.value, '"then"'));
    if (otherwise) {
      const e = this.asMap(otherwise.value, '"else"');
      if (e.pairs.some((p) => p.key === 'if')) {
        block.else = this.chain(e);
      } else {
        const plain = this.addBlock(null, this.loc(otherwise.line));
        this.fill(plain, e);
        block.else = plain;
      }
    }
    return block;
  }

  private condition(text: string, line: number): Condition {
    return parseConditionText(text, this.loc(line), { env: this.opts.env });
  }

  /** A value: objects inside a value are hashes, arrays are lists. */
  private value(node: SourceNode, key: string): ConfigValue {
    if (node.t === 'seq') return node.items.map((n) => this.value(n, key));
    if (node.t === 'map') return new ConfigHash(node.pairs.map((p) => [p.key, this.value(p.value, key)]));
    const v = node.value;
    if (typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (v === null) this.fail(node.line, `"${key}": null is not a config value (remove the key to use the default)`);
    return this.fail(node.line, `"${key}": unsupported value ${String(v)}`);
  }
}

/** Build a model from native JSON or YAML text. */
export function parseNativeConfig(text: string, file: string, format: 'json' | 'yaml', opts: NativeLoadOptions = {}): ConfigModel {
  return new NativeBuilder(file, opts).build(readTextSource(text, file, format));
}

/** Build a model from an object (what a JS config module exports). */
export function nativeConfigFromObject(value: unknown, file: string, opts: NativeLoadOptions = {}): ConfigModel {
  return new NativeBuilder(file, opts).build(readObjectSource(value, file));
}

/** What our cosmiconfig loaders hand back: the text, converted later with positions. */
const SOURCE = Symbol('lantern.config.source');
interface RawSource {
  filepath: string;
  content: string;
}

const rawLoader: Loader = (filepath, content) => {
  if (path.basename(filepath) !== 'package.json') return { [SOURCE]: { filepath, content } };
  let pkg: unknown;
  try {
    pkg = JSON.parse(content);
  } catch (err) {
    readTextSource(content, filepath, 'json'); // throws the positioned ConfigError
    throw err;
  }
  // No "lantern" key: cosmiconfig reads `lantern` of {} as absent and keeps searching.
  const has = typeof pkg === 'object' && pkg !== null && Object.hasOwn(pkg, 'lantern');
  return has ? { lantern: { [SOURCE]: { filepath, content } } } : {};
};

function explorer() {
  return cosmiconfig('lantern', {
    searchPlaces: [...NATIVE_SEARCH_PLACES],
    searchStrategy: 'none',
    cache: false,
    // cosmiconfig picks a loader by the exact extension; accept `A.JSON` as well as `a.json`.
    loaders: Object.fromEntries([
      ['noExt', rawLoader],
      ...['.json', '.yaml', '.yml', '.js', '.mjs', '.cjs'].flatMap((e) => [[e, rawLoader], [e.toUpperCase(), rawLoader]]),
    ]),
  });
}

async function importModule(abs: string, shown: string): Promise<unknown> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError({ file: shown, line: 0 }, `cannot load config module: ${(err as Error).message}`);
  }
  return 'default' in mod ? mod.default : mod;
}

/** A file's source (by name and extension) → model. */
async function fromSource(src: RawSource, shown: string, opts: NativeLoadOptions): Promise<ConfigModel> {
  const ext = path.extname(src.filepath).toLowerCase();
  if (path.basename(src.filepath) === 'package.json') {
    const tree = readTextSource(src.content, shown, 'json');
    const pair = tree?.t === 'map' ? tree.pairs.find((p) => p.key === 'lantern') : undefined;
    return new NativeBuilder(shown, opts).build(pair ? pair.value : null);
  }
  if (ext === '.json') return parseNativeConfig(src.content, shown, 'json', opts);
  if (ext === '.js' || ext === '.mjs' || ext === '.cjs') return nativeConfigFromObject(await importModule(src.filepath, shown), shown, opts);
  // .yaml, .yml and the extension-less .lanternrc (YAML, which also reads JSON).
  return parseNativeConfig(src.content, shown, 'yaml', opts);
}

/** Load a native config file (.json, .yaml, .yml, .js, .mjs, .cjs, .lanternrc, package.json#lantern). */
export async function loadNativeConfig(file: string, opts: NativeLoadOptions = {}): Promise<ConfigModel> {
  const abs = path.resolve(opts.cwd ?? process.cwd(), file);
  let result;
  try {
    result = await explorer().load(abs);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError({ file, line: 0 }, `cannot read config file: ${code ?? (err as Error).message}`);
  }
  if (result === null) throw new ConfigError({ file, line: 0 }, 'package.json has no "lantern" key');
  const src = (result.config as Record<symbol, RawSource> | undefined)?.[SOURCE];
  if (src === undefined) return new NativeBuilder(file, opts).build(null); // empty file
  return fromSource(src, file, opts);
}

/**
 * Look for a native config in `cwd` (not its parents): NATIVE_SEARCH_PLACES in order; empty
 * files are skipped. Null when there is none.
 */
export async function searchNativeConfig(cwd: string, opts: NativeLoadOptions = {}): Promise<ConfigModel | null> {
  const result = await explorer().search(cwd);
  if (result === null || result.isEmpty) return null;
  const src = (result.config as Record<symbol, RawSource>)[SOURCE];
  return fromSource(src, result.filepath, opts);
}
