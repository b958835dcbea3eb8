// Where `include` and `include_shell` get their text, as lighttpd 1.4.69 config_parse_file()
// and config_parse_cmd() (src/configfile.c) do it: paths relative to the main file's directory
// unless written `/…`, `./…` or `../…`; globs may match nothing; commands run by `sh -c`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expandGlob, isGlobPattern } from './glob.js';

/** include_shell commands are expected to be quick generators (create-mime.conf.pl and the like). */
export const INCLUDE_SHELL_TIMEOUT_MS = 60_000;
const INCLUDE_SHELL_MAX_BYTES = 32 * 1024 * 1024;

export interface IncludeSource {
  /** What errors call the file: the path as lighttpd would build it. */
  shown: string;
  text: string;
}

/** Reports a problem at the include statement (the parser adds file and line). */
export type IncludeFail = (message: string) => never;

/** The files `include "<target>"` names, read, in order. */
export function readIncludes(target: string, baseDir: string, cwd: string, fail: IncludeFail): IncludeSource[] {
  // lighttpd: `/x`, `./x` and `../x` are used as written (relative to the working directory);
  // any other path is relative to the directory of the main config file.
  const named = path.isAbsolute(target) || /^\.\.?[\\/]/.test(target) ? target : path.join(baseDir, target);
  const abs = path.resolve(cwd, named);
  let files: Array<{ abs: string; shown: string }>;
  if (isGlobPattern(named)) {
    files = expandGlob(abs).map((f) => ({ abs: f, shown: path.isAbsolute(named) ? f : path.relative(cwd, f) }));
  } else {
    if (!fs.existsSync(abs)) fail(`include file not found: ${named}`);
    files = [{ abs, shown: named }];
  }
  return files.map((f) => {
    try {
      return { shown: f.shown, text: fs.readFileSync(f.abs, 'utf8') };
    } catch (err) {
      return fail(`cannot read include file ${f.shown}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  });
}

/** Run `include_shell "<cmd>"` in the main file's directory; its stdout is config text. */
export function runIncludeShell(cmd: string, dir: string, env: NodeJS.ProcessEnv, fail: IncludeFail): IncludeSource {
  if (!fs.existsSync(dir)) fail(`include_shell "${cmd}": directory ${dir} does not exist`);
  try {
    const text = execFileSync('/bin/sh', ['-c', cmd], {
      cwd: dir,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: INCLUDE_SHELL_TIMEOUT_MS,
      maxBuffer: INCLUDE_SHELL_MAX_BYTES,
    });
    return { shown: `include_shell "${cmd}"`, text };
  } catch (err) {
    const e = err as { status?: number | null; signal?: string | null; stderr?: string; code?: string; message: string };
    const stderr = typeof e.stderr === 'string' && e.stderr.trim() ? `: ${e.stderr.trim().slice(0, 500)}` : '';
    if (typeof e.status === 'number') fail(`include_shell "${cmd}" exited with status ${e.status}${stderr}`);
    if (e.code === 'ETIMEDOUT') fail(`include_shell "${cmd}" did not finish within ${INCLUDE_SHELL_TIMEOUT_MS} ms`);
    if (e.signal) fail(`include_shell "${cmd}" was killed by ${e.signal}${stderr}`);
    return fail(`include_shell "${cmd}" could not run: ${e.message}`);
  }
}
