// The plugin contract: definePlugin({ id, requires, options, create }) (design.md §2, style.md).
import type { Hooks } from './hooks.js';
import type { OptionSchema, OptionSpec } from './options.js';
import type { Request } from './request.js';
import type { Server } from './server.js';
import type { SourceLoc } from '../config/model.js';

/** The TypeScript type an option spec yields. */
export type OptionValue<S extends OptionSpec> =
  S['type'] extends 'string' ? string :
  S['type'] extends 'integer' ? number :
  S['type'] extends 'boolean' ? boolean :
  S['type'] extends 'string-list' ? string[] :
  S['type'] extends 'hash' ? import('../config/model.js').ConfigHash :
  unknown;

/** A plugin's typed view of its own options for one request (or globally). */
export type OptionsView<S extends OptionSchema> = { readonly [K in keyof S]: OptionValue<S[K]> };

export interface PluginContext<S extends OptionSchema = OptionSchema> {
  /** The plugin's id, for taps (`hooks.uriClean.tap(ctx.id, ...)`). */
  readonly id: string;
  readonly server: Server;
  readonly hooks: Hooks;
  /** The plugin's options as set in the global scope (or their defaults). */
  readonly global: OptionsView<S>;
  /** The plugin's options for this request: global merged with the matching condition blocks. Cached. */
  options(req: Request): OptionsView<S>;
  /** Where an option was set (for error messages at run time), if it was. */
  optionLoc(key: keyof S & string): SourceLoc | undefined;
  /** Trace output (`DEBUG=lantern:<id>`). */
  debug(fmt: string, ...args: unknown[]): void;
  /** Write a line to the server's error log (server.errorlog), prefixed with the plugin id. */
  logError(message: string): void;
}

export interface PluginInstance {
  /** Free resources (close files, stop children). Called on shutdown after the `shutdown` hook. */
  close?(): void | Promise<void>;
  /** Anything the plugin wants to share with plugins that require it (e.g. proxy-core's registry). */
  api?: unknown;
}

/**
 * The plugin API this lantern offers (`lantern/plugin`, `lantern/proxy-core`). A plugin declares
 * the version it was written for in `apiVersion`; the host refuses another one at load, with a
 * message naming both.
 */
export const PLUGIN_API_VERSION = 1;

export interface PluginDefinition<S extends OptionSchema = OptionSchema> {
  /** The plugin's id: its folder name under plugins/, or the npm package name. */
  id: string;
  /** The plugin API version it was written for (PLUGIN_API_VERSION); omitted by built-in plugins. */
  apiVersion?: number;
  /** lighttpd module names that load this plugin from `server.modules` (e.g. `mod_staticfile`). */
  aliases?: readonly string[];
  /** Ids of plugins that must be loaded before this one; loaded automatically when missing. */
  requires?: readonly string[];
  /**
   * Plugins this one needs because of what the config says (a protocol or balancer named in a
   * key), loaded like `requires` when missing: a module that needs another loads it by itself.
   * Called once at boot with the whole config; returns plugin ids or module names.
   */
  implies?(model: import('../config/model.js').ConfigModel): readonly string[];
  /** The config keys this plugin owns, with schemas. Checked at boot. */
  options?: S;
  /** Key prefixes this plugin owns without declaring every key (unknown keys under them warn). */
  create(ctx: PluginContext<S>): PluginInstance | void | Promise<PluginInstance | void>;
}

/** Declare a plugin. Returns its argument, typed. */
export function definePlugin<S extends OptionSchema>(def: PluginDefinition<S>): PluginDefinition<S> {
  return def;
}
