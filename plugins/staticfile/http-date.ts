// HTTP-date (RFC 9110 §5.6.7): formatting as IMF-fixdate, parsing all three formats a recipient
// must accept (IMF-fixdate, obsolete RFC 850, ANSI C asctime). Dates are in whole seconds.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

const IMF_FIXDATE = /^([A-Z][a-z]{2}), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE = /^([A-Z][a-z]{5,8}), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE = /^([A-Z][a-z]{2}) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/** IMF-fixdate for a time in ms since the epoch (sub-second part dropped). */
export function formatHttpDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

/** Whole seconds of a time in ms: what an HTTP-date can say about it. */
export function toHttpSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/**
 * Parse an HTTP-date into seconds since the epoch, or null when it is not one of the three
 * formats (RFC 9110 §5.6.7: recipients MUST accept all three). The weekday is checked for form
 * only, as most servers do.
 */
export function parseHttpDate(value: string): number | null {
  const s = value.trim();
  let m = IMF_FIXDATE.exec(s);
  if (m) {
    if (!DAYS.includes(m[1]!)) return null;
    return build(Number(m[4]), m[3]!, Number(m[2]), m[5]!, m[6]!, m[7]!);
  }
  m = RFC850_DATE.exec(s);
  if (m) {
    if (!LONG_DAYS.includes(m[1]!)) return null;
    return build(rfc850Year(Number(m[4])), m[3]!, Number(m[2]), m[5]!, m[6]!, m[7]!);
  }
  m = ASCTIME_DATE.exec(s);
  if (m) {
    if (!DAYS.includes(m[1]!)) return null;
    return build(Number(m[7]), m[2]!, Number(m[3]!.trim()), m[4]!, m[5]!, m[6]!);
  }
  return null;
}

/**
 * RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in the future is the
 * most recent past year with the same last two digits.
 */
function rfc850Year(yy: number): number {
  const now = new Date().getUTCFullYear();
  let year = now - (now % 100) + yy;
  if (year > now + 50) year -= 100;
  return year;
}

function build(year: number, monthName: string, day: number, hh: string, mm: string, ss: string): number | null {
  const month = MONTHS.indexOf(monthName);
  const hour = Number(hh);
  const minute = Number(mm);
  // 60 is a leap second (RFC 9110 §5.6.7 allows it); it counts as the last second of the minute.
  const second = Math.min(Number(ss), 59);
  if (month < 0 || day < 1 || hour > 23 || minute > 59 || Number(ss) > 60) return null;
  const ms = Date.UTC(year, month, day, hour, minute, second);
  // Date.UTC rolls 31 Feb over into March: such a date is not valid.
  if (new Date(ms).getUTCDate() !== day) return null;
  return ms / 1000;
}
