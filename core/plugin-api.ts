// `lantern/plugin`: what a plugin written outside this repository imports (package.json
// "exports"). Everything here is covered by PLUGIN_API_VERSION: a change that breaks a plugin
// written against it raises the version, and the host refuses a plugin that declares another.
export { definePlugin, PLUGIN_API_VERSION } from './plugin.js';
export type { PluginContext, PluginDefinition, PluginInstance, OptionsView, OptionValue } from './plugin.js';
export type { OptionSchema, OptionSpec, OptionType } from './options.js';
export type { Hooks, HookResult } from './hooks.js';
export type { Request } from './request.js';
export type { BodyFilter } from './body-filter.js';
export type { PathKind, StatCache, StatFailure, StatLookup } from './stat-cache.js';
export type { HeaderList, RequestHead } from './http1/types.js';
export { ERRORS, LanternError, statusText } from './errors.js';
export type { ErrorCode, ErrorSpec } from './errors.js';
