// The bench's report: one markdown table per case, printed and written into docs/performance.md,
// where each case keeps its latest table (dated, with the command and the machine).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './fixtures.js';

/** One case's output: a title line, a table, and lines under it (goals, notes). */
export interface CaseReport {
  title: string;
  header: string[];
  rows: string[][];
  notes: string[];
}

export const DOC_FILE = path.join(ROOT, 'docs/performance.md');
/** The doc keeps the method above this heading and, below it, the latest table of each case. */
const FIGURES_HEADING = '## Current figures';
/** Each case's block starts with this (its title: `case <name>: ...`). */
const CASE_HEADING = '### case ';
/** Blocks in this order; other cases follow in the order they were first written. */
const CASE_ORDER = ['static13', 'hello', '1m', '100m', 'fastcgi', 'cgi'];
const DOC_INTRO = `# Performance

Measured with \`npm run bench\` (bench/run.ts). Each case below shows its latest run, with the
command that produced it; earlier runs are in git's history of this file.

`;

export function markdown(rep: CaseReport): string {
  // A "|" inside a cell (a failure message) would split it.
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [
    rep.title,
    '',
    line(rep.header),
    line(rep.header.map(() => '---')),
    ...rep.rows.map(line),
    ...(rep.notes.length ? ['', ...rep.notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
}

/** A number with `digits` decimals, or "n/a" for NaN. */
export function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

/** A ratio as "0.62x", or "n/a". */
export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a';
}

/** The same report with every occurrence of the run's temp dir written as `<tmp>`. */
export function withoutTempDir(rep: CaseReport, dir: string): CaseReport {
  const short = (s: string) => s.split(dir).join('<tmp>');
  return { ...rep, title: short(rep.title), rows: rep.rows.map((r) => r.map(short)), notes: rep.notes.map(short) };
}

/** "meets" / "misses" for a goal, or "n/a" when it could not be measured. */
export function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'n/a' : ok ? 'meets' : 'misses';
}

function versionOf(cmd: string, args: string[]): string {
  // nginx -v and wrk -v print to stderr (wrk also exits 1); wrk adds its copyright on the line.
  const out = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  return `${out.stdout ?? ''}${out.stderr ?? ''}`.split('\n')[0].replace(/\s+Copyright.*$/, '').trim();
}

/** One line about the machine and the tools, for the heading of a docs section. */
export function machineLine(nginx: string | undefined): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const tools = [`node ${process.version}`, versionOf('wrk', ['-v'])];
  if (nginx) tools.push(versionOf(nginx, ['-v']));
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; ${tools.join(', ')}`;
}

/** The case name of a block or report title (`case hello: ...` → `hello`). */
function caseName(title: string): string {
  return /^(?:### )?case ([^\s:]+)/.exec(title)?.[1] ?? title;
}

/**
 * Write this run's tables into docs/performance.md: each case's block is replaced by this run's
 * (with its date, command and machine); the cases this run did not measure keep their last block.
 * The text above "## Current figures" (the method) is kept as it is.
 */
export function writePerformanceDoc(reports: CaseReport[], command: string, machine: string): void {
  const old = fs.existsSync(DOC_FILE) ? fs.readFileSync(DOC_FILE, 'utf8') : DOC_INTRO;
  const cut = old.indexOf(`\n${FIGURES_HEADING}`);
  const intro = cut >= 0 ? old.slice(0, cut + 1) : old;
  const blocks = new Map<string, string>();
  if (cut >= 0) {
    const figures = old.slice(cut + 1 + FIGURES_HEADING.length);
    for (const part of figures.split(`\n${CASE_HEADING}`).slice(1)) blocks.set(caseName(`case ${part}`), `${CASE_HEADING}${part.trimEnd()}\n`);
  }
  const stamp = new Date().toISOString().replace('T', ' ').slice(0, 16);
  for (const r of reports) {
    const md = markdown({ ...r, title: `### ${r.title}` });
    const [title, ...rest] = md.split('\n');
    blocks.set(caseName(r.title), [title, '', `Run of ${stamp} UTC: \`${command}\`. Machine: ${machine}.`, ...rest].join('\n').trimEnd() + '\n');
  }
  const names = [...CASE_ORDER.filter((n) => blocks.has(n)), ...[...blocks.keys()].filter((n) => !CASE_ORDER.includes(n))];
  const body = names.map((n) => blocks.get(n)!).join('\n');
  fs.writeFileSync(DOC_FILE, `${intro.replace(/\n*$/, '\n\n')}${FIGURES_HEADING}\n\n${body}`);
}
