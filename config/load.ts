// Config entry point (design.md §4): `-f file.conf` (or any unknown extension) is lighttpd
// syntax, .json/.yaml/.yml/.js/.mjs/.cjs are native; without -f a native config is searched in
// the working directory, and without one the embedded default serves.
import path from 'node:path';
import { EMBEDDED_CONFIG_FILE, EMBEDDED_DEFAULT_CONFIG } from './default-config.js';
import { loadLighttpdConfig, parseLighttpdConfig } from './lighttpd/parser.js';
import type { ConfigModel } from './model.js';
import { loadNativeConfig, searchNativeConfig } from './native.js';

/** Extensions read as the native format; everything else is lighttpd.conf. */
export const NATIVE_EXTENSIONS: readonly string[] = ['.json', '.yaml', '.yml', '.js', '.mjs', '.cjs'];

export interface LoadConfigOptions {
  /** Base for a relative `file`, the search directory, and lighttpd's var.CWD. */
  cwd: string;
  /** For env.NAME and include_shell; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Which syntax a config file name selects. */
export function syntaxForFile(file: string): 'lighttpd' | 'native' {
  return NATIVE_EXTENSIONS.includes(path.extname(file).toLowerCase()) ? 'native' : 'lighttpd';
}

export async function loadConfig(file: string | undefined, opts: LoadConfigOptions): Promise<ConfigModel> {
  const { cwd, env } = opts;
  if (file !== undefined) {
    return syntaxForFile(file) === 'native' ? loadNativeConfig(file, { cwd, env }) : loadLighttpdConfig(file, { cwd, env });
  }
  const found = await searchNativeConfig(cwd, { env });
  return found ?? parseLighttpdConfig(EMBEDDED_DEFAULT_CONFIG, EMBEDDED_CONFIG_FILE, { cwd, env });
}
