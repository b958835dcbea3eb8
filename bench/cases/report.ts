// The bench's report: one markdown table per case, printed and written into docs/performance.md
// under a dated heading with the command and the machine, newest first, earlier sections kept.
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
/** Each run's section starts with this; everything above the first one is kept as the intro. */
const RUN_HEADING = '## Run of ';
const DOC_INTRO = `# Performance

Measured with \`npm run bench\` (bench/run.ts). Each section below is one run, newest first, with
the command that produced it.

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

/** Insert this run's tables as the newest section of docs/performance.md, below its intro. */
export function writePerformanceDoc(reports: CaseReport[], command: string, machine: string): void {
  const old = fs.existsSync(DOC_FILE) ? fs.readFileSync(DOC_FILE, 'utf8') : DOC_INTRO;
  const cut = old.indexOf(`\n${RUN_HEADING}`);
  const intro = cut >= 0 ? old.slice(0, cut + 1) : old;
  const earlier = cut >= 0 ? old.slice(cut + 1) : '';
  const stamp = new Date().toISOString().replace('T', ' ').slice(0, 16);
  const section = [
    `${RUN_HEADING}${stamp} UTC`,
    '',
    `Command: \`${command}\``,
    '',
    `Machine: ${machine}`,
    '',
    ...reports.map((r) => markdown({ ...r, title: `### ${r.title}` })),
  ].join('\n');
  fs.writeFileSync(DOC_FILE, `${intro.replace(/\n*$/, '\n\n')}${section}\n${earlier}`);
}
