// Per-request config merge (design.md §4), lighttpd 1.4.69's config_patch_config() order: the
// global entries, then every block whose condition (and whose parents' and, for an else link,
// whose predecessors') result allows it, in document order; later values win. The merged maps
// are cached by which blocks matched, so each distinct outcome is built once.
import { evaluateCondition } from './conditions.js';
import type { ConfigBlock, ConfigModel, ConfigValue, ConditionContext, MergedConfig, SourceLoc } from './model.js';

/** Distinct outcome vectors kept; real configs have far fewer. */
const MERGE_CACHE_MAX = 1024;

interface CachedMerge {
  values: Map<string, ConfigValue>;
  locs: Map<string, SourceLoc>;
  matched: number[];
}

export class ConfigMerger {
  private readonly cache = new Map<string, CachedMerge>();
  private readonly blocksById: ConfigBlock[];
  /** Scratch per merge() call: ids that matched and the captures of the last regex match. */
  private matched: number[] = [];
  private captures: string[] = [];
  private ctx!: ConditionContext;

  constructor(private readonly model: ConfigModel) {
    this.blocksById = new Array<ConfigBlock>(model.blockCount);
    const index = (b: ConfigBlock): void => {
      this.blocksById[b.id] = b;
      for (const c of b.children) {
        for (let link: ConfigBlock | null = c; link; link = link.else) index(link);
      }
    };
    index(model.root);
  }

  /** Number of distinct merges currently cached. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /**
   * The config for one request. `values`, `locs` and `matched` are shared between requests with
   * the same outcome: read them, never mutate them. `captures` is this request's own.
   */
  merge(ctx: ConditionContext): MergedConfig {
    this.ctx = ctx;
    this.matched = [0];
    this.captures = [];
    this.visit(this.model.root);
    const matched = this.matched;
    const captures = this.captures;
    const key = matched.join(',');
    let hit = this.cache.get(key);
    if (hit !== undefined) {
      // Refresh recency: Map iteration order is insertion order, the oldest is evicted first.
      this.cache.delete(key);
      this.cache.set(key, hit);
    } else {
      hit = this.build(matched);
      if (this.cache.size >= MERGE_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, hit);
    }
    return { values: hit.values, locs: hit.locs, captures, matched: hit.matched };
  }

  /** Children of a matched block: the first matching link of each else chain, recursively. */
  private visit(block: ConfigBlock): void {
    for (const head of block.children) {
      for (let link: ConfigBlock | null = head; link; link = link.else) {
        if (link.condition === null) {
          this.enter(link);
          break;
        }
        const caps = evaluateCondition(link.condition, this.ctx);
        if (caps !== null) {
          // lighttpd's %n: the captures of the most recently matched regex condition.
          if (link.condition.op === '=~') this.captures = caps;
          this.enter(link);
          break;
        }
      }
    }
  }

  private enter(block: ConfigBlock): void {
    this.matched.push(block.id);
    this.visit(block);
  }

  private build(matched: number[]): CachedMerge {
    const values = new Map<string, ConfigValue>();
    const locs = new Map<string, SourceLoc>();
    for (const id of matched) {
      for (const e of this.blocksById[id].entries) {
        values.set(e.key, e.value);
        locs.set(e.key, e.loc);
      }
    }
    return { values, locs, matched: Object.freeze(matched.slice()) as number[] };
  }
}

/** The global scope's values (root entries only, last wins): server-wide options. */
export function globalValues(model: ConfigModel): Map<string, ConfigValue> {
  const out = new Map<string, ConfigValue>();
  for (const e of model.root.entries) out.set(e.key, e.value);
  return out;
}

export interface SocketBlock {
  /** The listener as written: `:8443`, `127.0.0.1:8080`, `[::1]:80`, `/run/x.sock`. */
  value: string;
  loc: SourceLoc;
  /** The block, for per-listener options (ssl.engine, ssl.pemfile, ...). */
  block: ConfigBlock;
}

/**
 * Every `$SERVER["socket"] == "..."` block, anywhere in the tree, in document order: lighttpd
 * opens an extra listener for each. The same value may appear more than once (nested under
 * different parents); the server opens each address once.
 */
export function socketBlocks(model: ConfigModel): SocketBlock[] {
  const out: SocketBlock[] = [];
  const walk = (b: ConfigBlock): void => {
    const c = b.condition;
    if (c && c.kind === 'SERVER' && c.field === 'socket' && c.op === '==') out.push({ value: c.value, loc: c.loc, block: b });
    for (const head of b.children) {
      for (let link: ConfigBlock | null = head; link; link = link.else) walk(link);
    }
  };
  walk(model.root);
  return out;
}
