// Test helper: a project as a third party has it, next to this checkout: `lantern` in its
// node_modules (a link to the repository, as an install would put it) and a type-check of its
// files against lantern's emitted .d.ts with the compiler options a Node TypeScript project uses.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './spawn-lantern.js';

/** Put `lantern` (this checkout) into `projectDir`/node_modules. */
export function linkLantern(projectDir: string): void {
  fs.mkdirSync(path.join(projectDir, 'node_modules'), { recursive: true });
  fs.symlinkSync(REPO_ROOT, path.join(projectDir, 'node_modules', 'lantern'), 'dir');
}

/**
 * Type-check `files` of `projectDir` (strict, NodeNext, Node's types as @types/node gives any Node
 * project; `js`: JavaScript with JSDoc types too). Returns tsc's report: '' when it found nothing.
 */
export function typeCheck(projectDir: string, files: string[], opts: { js?: boolean } = {}): string {
  fs.writeFileSync(path.join(projectDir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false,
      ...(opts.js ? { allowJs: true, checkJs: true } : {}),
      typeRoots: [path.join(REPO_ROOT, 'node_modules', '@types')], types: ['node'],
    },
    files,
  }));
  try {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', projectDir], { encoding: 'utf8' });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}
