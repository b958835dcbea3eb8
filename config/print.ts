// -p: print a config model back in lighttpd syntax (values after variables, includes and
// `+=` are resolved), as `lighttpd -p` prints its internal form.
import { ConfigHash, type ConfigBlock, type ConfigModel, type ConfigValue } from './model.js';

export function printConfig(model: ConfigModel): string {
  const lines: string[] = [`# ${model.file} (${model.syntax} syntax)`];
  printBlock(model.root, 0, lines);
  return lines.join('\n') + '\n';
}

function printBlock(block: ConfigBlock, depth: number, lines: string[]): void {
  const ind = '    '.repeat(depth);
  const seen = new Map<string, ConfigValue>();
  for (const e of block.entries) seen.set(e.key, e.value); // last assignment wins
  for (const [key, value] of seen) lines.push(`${ind}${key} = ${formatValue(value, depth)}`);
  for (const child of block.children) {
    let first = true;
    for (let b: ConfigBlock | null = child; b; b = b.else) {
      const head = b.condition ? b.condition.text : '';
      if (first) lines.push(`${ind}${head} {`);
      else lines.push(`${ind}else${head ? ' ' + head : ''} {`);
      printBlock(b, depth + 1, lines);
      lines.push(`${ind}}`);
      first = false;
    }
  }
}

/** A lighttpd string literal: `\"` is the only escape lighttpd 1.4 reads back. */
function quote(s: string): string {
  return `"${s.replace(/"/g, '\\"')}"`;
}

export function formatValue(v: ConfigValue, depth = 0): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? '"enable"' : '"disable"';
  const ind = '    '.repeat(depth + 1);
  const end = '    '.repeat(depth);
  if (v instanceof ConfigHash) {
    if (v.size === 0) return '( )';
    return `(\n${v.entries.map(([k, x]) => `${ind}${quote(k)} => ${formatValue(x, depth + 1)},`).join('\n')}\n${end})`;
  }
  if (v.length === 0) return '( )';
  return `(\n${v.map((x) => `${ind}${formatValue(x, depth + 1)},`).join('\n')}\n${end})`;
}
