// Test helper: starts a real lantern Server in-process from config text, on 127.0.0.1 port 0,
// with a fresh temp directory of files for it to serve (`%DIR%` in the config text).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseLighttpdConfig } from '../../config/lighttpd/parser.js';
import { parseNativeConfig } from '../../config/native.js';
import { Server } from '../../core/server.js';

export interface LanternOptions {
  /** `lighttpd` (default): confText is lighttpd.conf; `native`: JSON (text starting with '{') or YAML. */
  syntax?: 'lighttpd' | 'native';
  /** Files written into the temp dir before the start; keys are relative paths (`sub/a.txt`). */
  files?: Record<string, string | Buffer>;
  /** Environment for `env.NAME` in the config. */
  env?: NodeJS.ProcessEnv;
  /** Grace period for stop(), default 1000 ms (the server's own default is 8 s). */
  graceMs?: number;
}

export interface LanternHandle {
  server: Server;
  /** The TCP port the server listens on. */
  port: number;
  /** The temp dir holding `files` (what `%DIR%` was replaced with). */
  dir: string;
  /** Config warnings (unknown keys...), collected instead of printed. */
  warnings: string[];
  /** Stop the server and remove the temp dirs. */
  stop(): Promise<void>;
}

/** Write `files` into `dir`, creating sub-directories. */
export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

/** Start lantern with `confText` (see LanternOptions); resolves once it listens. */
export async function startLantern(confText: string, opts: LanternOptions = {}): Promise<LanternHandle> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-files-'));
  // The config lives outside `dir` so that a directory listing of the docroot does not show it.
  const confDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lantern-conf-'));
  const cleanup = () => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(confDir, { recursive: true, force: true });
  };
  try {
    if (opts.files) writeFiles(dir, opts.files);
    const text = confText.split('%DIR%').join(dir);
    const syntax = opts.syntax ?? 'lighttpd';
    const format = text.trimStart().startsWith('{') ? 'json' : 'yaml';
    const file = path.join(confDir, syntax === 'lighttpd' ? 'lighttpd.conf' : `lantern.config.${format}`);
    fs.writeFileSync(file, text);
    const model = syntax === 'lighttpd'
      ? parseLighttpdConfig(text, file, { cwd: dir, env: opts.env })
      : parseNativeConfig(text, file, format, { cwd: dir, env: opts.env });
    const warnings: string[] = [];
    const server = await Server.create({
      model,
      cwd: dir,
      listen: [{ host: '127.0.0.1', port: 0 }],
      warn: (m) => warnings.push(m),
    });
    await server.start();
    let stopped = false;
    return {
      server,
      port: server.port,
      dir,
      warnings,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await server.stop(opts.graceMs ?? 1000);
        } finally {
          cleanup();
        }
      },
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
