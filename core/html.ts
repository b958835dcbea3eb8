// HTML text escaping for pages the server itself renders (directory listings, the status page).

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape the five characters that matter in HTML text and attribute values. */
export function escapeHtml(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}
