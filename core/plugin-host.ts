// The plugin host (design.md §2): resolves server.modules to plugins (built-in id, npm package
// or path), loads `requires` first, checks every config key against the owner's schema at boot,
// then creates the plugins in order. Errors name the file, line and key.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PLUGIN_API_VERSION } from './plugin.js';
import { VERSION } from './version.js';
import createDebug from 'debug';
import { ConfigError, ConfigErrorList, type ConfigBlock, type ConfigEntry, type ConfigModel, type ConfigValue, type SourceLoc } from '../config/model.js';
import { closestName } from '../config/suggest.js';
import { CORE_OPTIONS } from './core-options.js';
import { booleanValue, coerceOption, type OptionSchema, type OptionSpec } from './options.js';
import type { PluginContext, PluginDefinition, PluginInstance } from './plugin.js';
import type { Request } from './request.js';
import type { Server } from './server.js';

/** Modules lighttpd loads even when not listed (server.compat-module-load). */
const ALWAYS_LOADED = ['indexfile', 'dirlisting', 'staticfile'];

/** lighttpd module names whose plugin id is not just the name without `mod_`. */
const MODULE_ALIASES: Record<string, string> = {
  mod_proxy: 'proxy',
  mod_proxy_core: 'proxy-core',
  // lighttpd 1.4.56+ loads mod_deflate for mod_compress (configfile.c).
  mod_compress: 'deflate',
};

const BUILTIN_DIR = fileURLToPath(new URL('../plugins/', import.meta.url));

export interface LoadedPlugin {
  def: PluginDefinition;
  instance: PluginInstance | void;
  /** The server.modules entry that asked for it, if any. */
  loc?: SourceLoc;
}

export function moduleToId(name: string): string {
  if (MODULE_ALIASES[name]) return MODULE_ALIASES[name];
  if (name.startsWith('mod_')) return name.slice(4).replace(/_/g, '-');
  return name;
}

/** The lighttpd module name of a plugin id: `foo-bar` → `mod_foo_bar` (the inverse of moduleToId). */
export function idToModule(id: string): string {
  const plain = `mod_${id.replace(/-/g, '_')}`;
  if (moduleToId(plain) === id) return plain;
  for (const [name, aliasId] of Object.entries(MODULE_ALIASES)) if (aliasId === id) return name;
  return plain;
}

/**
 * Every plugin id found in `dirs` (a folder with an index file), the built-in plugins when
 * `dirs` is omitted: what server.modules can name besides npm packages and paths. Read from the
 * disk, so a plugin added to plugins/ is known without a list to edit.
 */
export function knownPluginIds(dirs: string[] = [BUILTIN_DIR]): string[] {
  const ids = new Set<string>();
  for (const dir of dirs) {
    let names: string[];
    try { names = fs.readdirSync(dir); } catch { continue; }
    for (const name of names.sort()) {
      if (['index.js', 'index.ts', 'index.mjs'].some((f) => fs.existsSync(path.join(dir, name, f)))) ids.add(name);
    }
  }
  return [...ids];
}

export class PluginHost {
  readonly plugins = new Map<string, LoadedPlugin>();
  /** key → owning schema entry. */
  readonly specs = new Map<string, { spec: OptionSpec; owner: string }>();
  private readonly pluginDirs: string[];
  private readonly cwd: string;
  /** Keys of the known plugins that are not loaded → their module name (for "did you mean"). */
  private readonly otherKeys = new Map<string, string>();

  constructor(opts: { pluginDirs?: string[]; cwd: string }) {
    this.pluginDirs = [...(opts.pluginDirs ?? []), BUILTIN_DIR];
    this.cwd = opts.cwd;
    for (const [key, spec] of Object.entries(CORE_OPTIONS)) this.specs.set(key, { spec: spec as OptionSpec, owner: 'core' });
  }

  /** Resolve and import every module the config asks for (and what they require). */
  async load(model: ConfigModel): Promise<void> {
    const requested: Array<{ name: string; loc: SourceLoc }> = [];
    for (const e of model.root.entries) {
      if (e.key !== 'server.modules') continue;
      const list = Array.isArray(e.value) ? e.value : [e.value];
      list.forEach((v, i) => {
        // Each element's own line (a list written over several lines), else the key's.
        const loc = Array.isArray(e.value) ? e.itemLocs?.[i] ?? e.loc : e.loc;
        if (typeof v !== 'string') throw new ConfigError(loc, 'server.modules: every entry must be a string');
        requested.push({ name: v, loc });
      });
    }
    // Every unknown module in one run, each at its own line, before any is loaded.
    const unknown: ConfigError[] = [];
    const checked = new Set<string>();
    for (const r of requested) {
      const id = moduleToId(r.name);
      if (checked.has(id)) continue;
      checked.add(id);
      if (this.resolve(r.name, id, r.loc) === null) unknown.push(this.unknownModule(r.name, r.loc));
    }
    if (unknown.length === 1) throw unknown[0];
    if (unknown.length > 1) throw new ConfigErrorList(unknown);
    const seen = new Set<string>();
    for (const r of requested) {
      const id = moduleToId(r.name);
      if (seen.has(id)) continue;
      seen.add(id);
      await this.loadOne(r.name, r.loc, []);
    }
    await this.loadImplied(model);
    const compat = model.root.entries.filter((e) => e.key === 'server.compat-module-load').at(-1)?.value;
    if (!(compat === 'disable' || compat === false || compat === 0)) {
      for (const id of ALWAYS_LOADED) if (!this.plugins.has(id)) await this.loadOne(id, undefined, []);
      // lighttpd 1.4.69 (configfile.c config_warn_openssl_module): ssl.* keys without a TLS module
      // load mod_openssl, with its warning.
      const ssl = firstKey(model.root, 'ssl.');
      if (ssl !== null && !this.plugins.has('openssl')) {
        model.warnings.push(`${ssl.loc.file}:${ssl.loc.line}: Warning: please add "mod_openssl" to server.modules list in lighttpd.conf (loaded for ${ssl.key}); lighttpd will not load it by itself in a future release`);
        await this.loadOne('openssl', ssl.loc, []);
      }
    } else if (!this.plugins.has('openssl')) {
      const engine = firstKey(model.root, 'ssl.engine');
      if (engine !== null && booleanValue(engine.value) === true) {
        throw new ConfigError(engine.loc, 'ssl.engine = "enable" needs "mod_openssl" in server.modules (server.compat-module-load is disabled)');
      }
    }
    if (unknownKeys(model, this.specs).length > 0) await this.learnOtherKeys();
  }

  /** The "unknown module" error for `name`, with the closest known module as a suggestion. */
  private unknownModule(name: string, loc: SourceLoc): ConfigError {
    const id = moduleToId(name);
    const ids = knownPluginIds(this.pluginDirs);
    // Suggest in the form the user wrote: `mod_acces` → mod_access, `acces` → access.
    const candidates = name.startsWith('mod_') ? ids.map(idToModule) : [...ids, ...ids.map(idToModule)];
    const near = closestName(name, candidates);
    return new ConfigError(loc,
      `server.modules: unknown module "${name}" (no plugin "${id}" in ${this.pluginDirs.join(', ')} and no such package)${near ? `; did you mean "${near}"?` : ''}`);
  }

  /**
   * The option keys of every known plugin that is not loaded, so that a key of one of them can
   * say which module to load. Only done when some key is unknown (it imports those plugins).
   */
  private async learnOtherKeys(): Promise<void> {
    for (const id of knownPluginIds(this.pluginDirs)) {
      if (this.plugins.has(id)) continue;
      const file = this.resolve(id, id);
      if (file === null) continue;
      try {
        const mod = await import(pathToFileURL(file).href) as { default?: PluginDefinition; plugin?: PluginDefinition };
        const def = mod.default ?? mod.plugin;
        for (const key of Object.keys(def?.options ?? {})) {
          if (!this.specs.has(key) && !this.otherKeys.has(key)) this.otherKeys.set(key, def?.aliases?.[0] ?? idToModule(id));
        }
      } catch { /* a plugin that does not load here only costs its suggestion */ }
    }
  }

  /** What loaded plugins imply from the config (PluginDefinition.implies), until nothing new comes. */
  private async loadImplied(model: ConfigModel): Promise<void> {
    const asked = new Set<PluginDefinition>();
    for (;;) {
      const pending = [...new Set([...this.plugins.values()].map((p) => p.def))].filter((d) => d.implies && !asked.has(d));
      if (pending.length === 0) return;
      for (const def of pending) {
        asked.add(def);
        for (const name of def.implies!(model)) {
          if (!this.plugins.has(moduleToId(name))) await this.loadOne(name, this.plugins.get(def.id)?.loc, [def.id]);
        }
      }
    }
  }

  private async loadOne(name: string, loc: SourceLoc | undefined, chain: string[]): Promise<PluginDefinition> {
    const id = moduleToId(name);
    const have = this.plugins.get(id);
    if (have) return have.def;
    if (chain.includes(id)) {
      throw new ConfigError(loc ?? { file: '<plugins>', line: 0 }, `plugin "${id}": circular requires (${[...chain, id].join(' → ')})`);
    }
    const file = this.resolve(name, id, loc);
    if (!file) {
      throw new ConfigError(loc ?? { file: '<plugins>', line: 0 },
        `server.modules: unknown module "${name}" (no plugin "${id}" in ${this.pluginDirs.join(', ')} and no such package)`);
    }
    const where = loc ?? { file: '<plugins>', line: 0 };
    const mod = await importPlugin(file, name, where);
    const def = mod.default ?? mod.plugin;
    if (!def || typeof def.id !== 'string' || typeof def.create !== 'function') {
      throw new ConfigError(where, `server.modules: "${name}" does not export a plugin (definePlugin) as default`);
    }
    if (def.apiVersion !== undefined && def.apiVersion !== PLUGIN_API_VERSION) {
      throw new ConfigError(where, `server.modules: "${name}" (plugin "${def.id}") was written for lantern's plugin API ${def.apiVersion}; this lantern ${VERSION} offers API ${PLUGIN_API_VERSION}`);
    }
    for (const req of def.requires ?? []) await this.loadOne(req, loc, [...chain, id]);
    for (const [key, spec] of Object.entries(def.options ?? {})) {
      const prev = this.specs.get(key);
      if (prev && prev.owner !== def.id) {
        throw new ConfigError(loc ?? { file: '<plugins>', line: 0 }, `plugin "${def.id}": option "${key}" is already owned by "${prev.owner}"`);
      }
      this.specs.set(key, { spec, owner: def.id });
    }
    this.plugins.set(def.id, { def, instance: undefined, loc });
    if (def.id !== id) this.plugins.set(id, this.plugins.get(def.id)!);
    return def;
  }

  /**
   * A path (`./x`, `/x`) is relative to the config file that names it (lantern's working
   * directory when the config is not a file); a bare name is a built-in plugin, then an npm
   * package installed next to that config file or in the working directory.
   */
  private resolve(name: string, id: string, loc?: SourceLoc): string | null {
    const base = loc !== undefined && path.isAbsolute(loc.file) && fs.existsSync(loc.file) ? path.dirname(loc.file) : this.cwd;
    if (name.startsWith('.') || path.isAbsolute(name)) {
      const p = path.resolve(base, name);
      for (const cand of [p, path.join(p, 'index.js'), path.join(p, 'index.ts'), path.join(p, 'index.mjs')]) {
        if (fs.existsSync(cand) && fs.statSync(cand).isFile()) return cand;
      }
      return null;
    }
    for (const dir of this.pluginDirs) {
      for (const f of ['index.js', 'index.ts', 'index.mjs']) {
        const cand = path.join(dir, id, f);
        if (fs.existsSync(cand)) return cand;
      }
    }
    // An npm package (third-party plugins), from the config file's folder, then the working directory.
    for (const dir of base === this.cwd ? [this.cwd] : [base, this.cwd]) {
      const found = resolvePackage(name, dir);
      if (found !== null) return found;
    }
    return null;
  }

  /**
   * Check every key of every block against its owner's schema; coerce values in place.
   * Unknown keys warn (as lighttpd does); a wrong type stops the start.
   */
  validate(model: ConfigModel, warn: (msg: string) => void): void {
    const visit = (block: ConfigBlock, conditional: boolean) => {
      for (const e of block.entries) {
        if (e.key.startsWith('var.') || e.key.startsWith('env.')) continue;
        const owner = this.specs.get(e.key);
        if (!owner) {
          warn(`${e.loc.file}:${e.loc.line}: unknown config key "${e.key}" (ignored${this.suggestKey(e.key)})`);
          continue;
        }
        if (conditional && owner.spec.conditional === false) {
          warn(`${e.loc.file}:${e.loc.line}: "${e.key}" is only read in the global scope (ignored inside a condition)`);
        }
        const r = coerceOption(owner.spec, e.value);
        if ('error' in r) throw new ConfigError(e.loc, `${e.key}: ${r.error}`);
        e.value = r.value as ConfigValue;
      }
      for (const child of block.children) {
        for (let b: ConfigBlock | null = child; b; b = b.else) visit(b, true);
      }
    };
    visit(model.root, false);
  }

  /**
   * What to tell about an unknown key: the module to load when a known plugin that is not
   * loaded owns it, else the closest key of the loaded plugins and core (or of a plugin not
   * loaded, naming it), else which module its prefix suggests.
   */
  private suggestKey(key: string): string {
    const module = this.otherKeys.get(key);
    if (module) return `; it is an option of ${module}: add "${module}" to server.modules`;
    const near = closestName(key, this.specs.keys());
    if (near) return `; did you mean "${near}"?`;
    const other = closestName(key, this.otherKeys.keys());
    if (other) return `; did you mean "${other}" (an option of ${this.otherKeys.get(other)}, which is not loaded)?`;
    return suggestModule(key);
  }

  /** Create every plugin, dependencies first. */
  async create(server: Server): Promise<void> {
    const done = new Set<string>();
    const order: PluginDefinition[] = [];
    const add = (def: PluginDefinition) => {
      if (done.has(def.id)) return;
      done.add(def.id);
      for (const r of def.requires ?? []) add(this.plugins.get(moduleToId(r))!.def);
      order.push(def);
    };
    for (const p of this.plugins.values()) add(p.def);
    for (const def of order) {
      const ctx = makeContext(server, def);
      const instance = await def.create(ctx);
      this.plugins.get(def.id)!.instance = instance;
    }
  }

  /** A loaded plugin's shared API (`instance.api`), for plugins that require another. */
  api<T>(id: string): T | undefined {
    return this.plugins.get(id)?.instance?.api as T | undefined;
  }

  async closeAll(): Promise<void> {
    for (const p of new Set(this.plugins.values())) {
      try { await p.instance?.close?.(); } catch { /* best effort at shutdown */ }
    }
  }
}

/** The first entry (any block, document order) whose key is `key` or, when it ends in ".", starts with it. */
function firstKey(block: ConfigBlock, key: string): ConfigEntry | null {
  for (const e of block.entries) if (key.endsWith('.') ? e.key.startsWith(key) : e.key === key) return e;
  for (const child of block.children) {
    for (let b: ConfigBlock | null = child; b; b = b.else) {
      const found = firstKey(b, key);
      if (found !== null) return found;
    }
  }
  return null;
}

/** Keys of the model (any block) that no loaded plugin or the core declares; var.* and env.* are not options. */
function unknownKeys(model: ConfigModel, specs: Map<string, unknown>): string[] {
  const out: string[] = [];
  const visit = (block: ConfigBlock) => {
    for (const e of block.entries) {
      if (!e.key.startsWith('var.') && !e.key.startsWith('env.') && !specs.has(e.key)) out.push(e.key);
    }
    for (const child of block.children) for (let b: ConfigBlock | null = child; b; b = b.else) visit(b);
  };
  visit(model.root);
  return out;
}

function suggestModule(key: string): string {
  const prefix = key.split('.')[0];
  return prefix && prefix !== 'server' ? `; is the module for "${prefix}.*" loaded?` : '';
}

function makeContext(server: Server, def: PluginDefinition): PluginContext {
  const schema: OptionSchema = def.options ?? {};
  const keys = Object.keys(schema);
  const views = new WeakMap<Map<string, ConfigValue>, Record<string, unknown>>();
  const build = (values: Map<string, ConfigValue>) => {
    const view: Record<string, unknown> = {};
    for (const k of keys) {
      const v = values.get(k);
      view[k] = v !== undefined ? v : schema[k].default;
    }
    return Object.freeze(view);
  };
  const globalView = build(server.globalValues);
  const trace = createDebug(`lantern:${def.id}`);
  return {
    id: def.id,
    server,
    hooks: server.hooks,
    global: globalView as PluginContext['global'],
    options(req: Request) {
      const values = req.config.values;
      let v = views.get(values);
      if (!v) { v = build(values); views.set(values, v); }
      return v as ReturnType<PluginContext['options']>;
    },
    optionLoc(key: string) { return server.globalLocs.get(key); },
    debug: (fmt: string, ...args: unknown[]) => trace(fmt, ...args),
    logError: (message: string) => server.logError(`(${def.id}) ${message}`),
  };
}

/** The entry file of npm package `name` as seen from `dir`, or null. */
function resolvePackage(name: string, dir: string): string | null {
  try {
    return createRequire(path.join(dir, 'package.json')).resolve(name);
  } catch { /* an ESM-only package: read its package.json below */ }
  try {
    const pkgDir = path.join(dir, 'node_modules', name);
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { main?: string; exports?: unknown };
    const exp = pkg.exports as string | Record<string, unknown> | undefined;
    const dot = typeof exp === 'string' ? exp : exp && typeof exp === 'object' ? exp['.'] : undefined;
    const entry = typeof dot === 'string' ? dot
      : dot && typeof dot === 'object' ? (dot as Record<string, unknown>).import ?? (dot as Record<string, unknown>).default : undefined;
    const p = path.join(pkgDir, typeof entry === 'string' ? entry : pkg.main ?? 'index.js');
    if (fs.existsSync(p)) return p;
  } catch { /* not installed */ }
  return null;
}

/**
 * Import a plugin's module. A TypeScript file loads when this Node strips types itself (22.6+
 * with the flag, 23.6+ by default) or tsx is installed (it is registered on first need);
 * otherwise the error says what to run.
 */
async function importPlugin(file: string, name: string, where: SourceLoc): Promise<{ default?: PluginDefinition; plugin?: PluginDefinition }> {
  const url = file.startsWith('file:') || !path.isAbsolute(file) ? file : pathToFileURL(file).href;
  try {
    return await import(url);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts$/.test(file)) {
      if (await registerTsx()) {
        try { return await import(url); } catch (again) { err = again; }
      } else {
        throw new ConfigError(where, `server.modules: "${name}" is TypeScript (${file}) and this lantern runs from its compiled build, which cannot load TypeScript: compile the plugin (npx tsc) and name its .js file, or install tsx next to lantern (npm install tsx) and start it again`);
      }
    }
    throw new ConfigError(where, `server.modules: cannot load "${name}": ${(err as Error).message}`);
  }
}

let tsxRegistered: Promise<boolean> | null = null;

/** Register tsx's ESM loader once, if it is installed; false when it is not. */
function registerTsx(): Promise<boolean> {
  tsxRegistered ??= import('tsx/esm/api').then((m: { register: () => unknown }) => { m.register(); return true; }, () => false);
  return tsxRegistered;
}
