// Formats an HTTP/1.x response head (RFC 9112 §4, §5) and refuses anything that would split it
// (RFC 9112 §11.1; checklist G7).
import { LanternError, statusText } from '../errors.js';
import { TCHAR } from './field-lines.js';
import type { HeaderList } from './types.js';

/** Status lines without a custom reason, built once per (version, status): index status * 2 + minor (status is 100..999). */
const statusLines: Array<string | undefined> = new Array(2000).fill(undefined);

export function statusLine(versionMinor: 0 | 1, status: number): string {
  const key = status * 2 + versionMinor;
  let line = statusLines[key];
  if (line === undefined) {
    line = `HTTP/1.${versionMinor} ${status} ${statusText(status)}\r\n`;
    if (Number.isInteger(key) && key >= 0 && key < statusLines.length) statusLines[key] = line;
  }
  return line;
}

/** A name must be a token (RFC 9110 §5.1): that also rules out CR, LF, NUL, ':' and spaces. */
export function isFieldName(name: string): boolean {
  const n = name.length;
  let ok = n > 0;
  for (let k = 0; ok && k < n; k++) {
    const c = name.charCodeAt(k);
    ok = c < 256 && TCHAR[c] === 1;
  }
  return ok;
}

/** Throws LT_ERR_INTERNAL unless `name` is a token (isFieldName). */
export function checkName(name: string): void {
  if (!isFieldName(name)) throw new LanternError('LT_ERR_INTERNAL', `invalid response header name ${JSON.stringify(name)}`);
}

/**
 * A value must not hold CR, LF or NUL (RFC 9110 §5.5, response splitting) nor a character the
 * latin1 wire encoding cannot carry (it would be silently mangled).
 */
export function isFieldValue(value: string): boolean {
  if (typeof value !== 'string') return false;
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k);
    if (c === 0x0d || c === 0x0a || c === 0x00 || c > 0xff) return false;
  }
  return true;
}

/** Throws LT_ERR_INTERNAL unless `value` may go on the wire (isFieldValue); `what` names it in the message. */
export function checkValue(value: string, what: string): void {
  if (typeof value !== 'string') throw new LanternError('LT_ERR_INTERNAL', `${what} is not a string`);
  if (!isFieldValue(value)) throw new LanternError('LT_ERR_INTERNAL', `CR, LF, NUL or non-latin1 character in ${what}`);
}

/**
 * `HTTP/1.x <status> <reason>\r\n` + `Name: value\r\n` per field + `\r\n`. The reason defaults to
 * the standard text of the status. Throws a LanternError (LT_ERR_INTERNAL, which the caller
 * turns into a 500) when a status is not 3 digits or a name, value or reason would split the
 * head. The result is latin1 text: write it with the 'latin1' encoding so obs-text bytes in
 * values go out as they came in.
 */
export function formatResponseHead(versionMinor: 0 | 1, status: number, headers: HeaderList, reason?: string): string {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new LanternError('LT_ERR_INTERNAL', `invalid response status ${status}`);
  }
  let out: string;
  if (reason === undefined) {
    out = statusLine(versionMinor, status);
  } else {
    checkValue(reason, 'the reason phrase');
    out = `HTTP/1.${versionMinor} ${status} ${reason}\r\n`;
  }
  const n = headers.length;
  if (n % 2 !== 0) throw new LanternError('LT_ERR_INTERNAL', 'header list with a name but no value');
  for (let k = 0; k < n; k += 2) {
    const name = headers[k]!;
    const value = headers[k + 1]!;
    checkName(name);
    checkValue(value, `response header ${name}`);
    out += name + ': ' + value + '\r\n';
  }
  return out + '\r\n';
}
