// The HTML page of a directory listing (the layout of lighttpd mod_dirlisting: a table of name,
// last modified, size and type; directories first; a parent link). Every name is HTML-escaped
// and every link percent-encoded, so a file called `<script>` stays text.
import { escapeHtml } from '../../core/html.js';
import { encodePathSegment } from '../staticfile/url-encode.js';

export interface ListingEntry {
  name: string;
  isDir: boolean;
  size: number;
  mtimeMs: number;
  /** Content-Type for files (from mimetype.assign); ignored for directories. */
  type: string;
}

export interface ListingPage {
  /** The decoded URL path of the directory, ending in '/'. */
  urlPath: string;
  entries: ListingEntry[];
  /** Charset named in the page (dir-listing.encoding); '' = none. */
  encoding: string;
  /** dir-listing.external-css: a stylesheet URL instead of the built-in style. */
  externalCss: string;
  /** dir-listing.external-js: a script URL added at the end of the body. */
  externalJs: string;
  /** Text shown before the table (dir-listing.show-header), already read; null for none. */
  header: string | null;
  /** Text shown after the table (dir-listing.show-readme). */
  readme: string | null;
  /** When false, header/readme are inserted as HTML (dir-listing.encode-header/-readme disabled). */
  encodeHeader: boolean;
  encodeReadme: boolean;
  /** Footer text (dir-listing.set-footer, else server.tag). */
  footer: string;
}

export { escapeHtml };

/** Directories first, then files; each group by name in code-unit order (lighttpd: strcmp). */
export function sortEntries(entries: ListingEntry[]): ListingEntry[] {
  return [...entries].sort((a, b) => (a.isDir !== b.isDir ? (a.isDir ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** lighttpd-style human size: bytes below 1 KiB as is, else one decimal and K/M/G/T/P. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return String(bytes);
  const units = ['K', 'M', 'G', 'T', 'P'];
  let value = bytes / 1024;
  let u = 0;
  while (value >= 1024 && u < units.length - 1) {
    value /= 1024;
    u++;
  }
  return `${value.toFixed(1)}${units[u]}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Local time as `2024-Jan-05 13:04:09` (lighttpd's "%Y-%b-%d %H:%M:%S"). */
export function formatMtime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${MONTHS[d.getMonth()]}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const STYLE = `<style>
a, a:active {text-decoration: none; color: blue;}
a:visited {color: #48468F;}
a:hover, a:focus {text-decoration: underline; color: red;}
body {background-color: #F5F5F5;}
h2 {margin-bottom: 12px;}
table {margin-left: 12px;}
th, td {font: 90% monospace; text-align: left;}
th {font-weight: bold; padding-right: 14px; padding-bottom: 3px;}
td {padding-right: 14px;}
td.s, th.s {text-align: right;}
div.list {background-color: white; border-top: 1px solid #646464; border-bottom: 1px solid #646464; padding-top: 10px; padding-bottom: 14px;}
div.foot {font: 90% monospace; color: #787878; padding-top: 4px;}
</style>
`;

function row(href: string, label: string, mtime: string, size: string, type: string, dir: boolean): string {
  return `<tr${dir ? ' class="d"' : ''}><td class="n"><a href="${href}">${label}</a>${dir ? '/' : ''}</td>` +
    `<td class="m">${mtime}</td><td class="s">${size}</td><td class="t">${type}</td></tr>\n`;
}

/** The whole page. */
export function renderListing(page: ListingPage): string {
  const title = `Index of ${escapeHtml(page.urlPath)}`;
  const meta = page.encoding === '' ? '' : `<meta charset="${escapeHtml(page.encoding)}">\n`;
  let html = `<!DOCTYPE html>\n<html>\n<head>\n${meta}<title>${title}</title>\n`;
  html += page.externalCss
    ? `<meta name="viewport" content="initial-scale=1">\n<link rel="stylesheet" type="text/css" href="${escapeHtml(page.externalCss)}">\n`
    : STYLE;
  html += `</head>\n<body>\n`;
  if (page.header !== null) {
    html += page.encodeHeader ? `<pre class="header">${escapeHtml(page.header)}</pre>\n` : `${page.header}\n`;
  }
  html += `<h2>${title}</h2>\n<div class="list">\n<table summary="Directory Listing" cellpadding="0" cellspacing="0">\n`;
  html += '<thead><tr><th class="n">Name</th><th class="m">Last Modified</th><th class="s">Size</th><th class="t">Type</th></tr></thead>\n<tbody>\n';
  if (page.urlPath !== '/') html += row('../', 'Parent Directory', '&nbsp;', '- &nbsp;', 'Directory', true);
  for (const e of sortEntries(page.entries)) {
    const href = encodePathSegment(e.name) + (e.isDir ? '/' : '');
    const size = e.isDir ? '- &nbsp;' : formatSize(e.size);
    html += row(href, escapeHtml(e.name), formatMtime(e.mtimeMs), size, e.isDir ? 'Directory' : escapeHtml(e.type), e.isDir);
  }
  html += '</tbody>\n</table>\n</div>\n';
  if (page.readme !== null) {
    html += page.encodeReadme ? `<pre class="readme">${escapeHtml(page.readme)}</pre>\n` : `${page.readme}\n`;
  }
  html += `<div class="foot">${escapeHtml(page.footer)}</div>\n`;
  if (page.externalJs) html += `<script type="text/javascript" src="${escapeHtml(page.externalJs)}"></script>\n`;
  html += '</body>\n</html>\n';
  return html;
}
