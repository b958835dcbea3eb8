// A strftime(3) subset in local time, for mod_accesslog's %t and %{format}t (C99 §7.23.3.5
// conversion specifiers; %z as ISO 8601 "+hhmm"). Unknown conversions are copied as written.

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pad = (n: number, width = 2, fill = '0') => String(n).padStart(width, fill);

/** ISO 8601 offset of local time from UTC at `d`: `+0200`, `-0530`. */
export function utcOffset(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  return Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 86_400_000) + 1;
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? '';
}

/** Format `ms` (since the epoch) in local time with a strftime pattern. */
export function strftime(pattern: string, ms: number): string {
  const d = new Date(ms);
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c !== '%' || i + 1 >= pattern.length) {
      out += c;
      continue;
    }
    const k = pattern[++i]!;
    switch (k) {
      case 'a': out += DAYS[d.getDay()]!.slice(0, 3); break;
      case 'A': out += DAYS[d.getDay()]; break;
      case 'b': case 'h': out += MONTHS[d.getMonth()]!.slice(0, 3); break;
      case 'B': out += MONTHS[d.getMonth()]; break;
      case 'C': out += pad(Math.floor(d.getFullYear() / 100)); break;
      case 'd': out += pad(d.getDate()); break;
      case 'e': out += pad(d.getDate(), 2, ' '); break;
      case 'D': out += `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${pad(d.getFullYear() % 100)}`; break;
      case 'F': out += `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; break;
      case 'H': out += pad(d.getHours()); break;
      case 'I': out += pad(d.getHours() % 12 || 12); break;
      case 'j': out += pad(dayOfYear(d), 3); break;
      case 'm': out += pad(d.getMonth() + 1); break;
      case 'M': out += pad(d.getMinutes()); break;
      case 'n': out += '\n'; break;
      case 'p': out += d.getHours() < 12 ? 'AM' : 'PM'; break;
      case 'R': out += `${pad(d.getHours())}:${pad(d.getMinutes())}`; break;
      case 's': out += String(Math.floor(ms / 1000)); break;
      case 'S': out += pad(d.getSeconds()); break;
      case 't': out += '\t'; break;
      case 'T': out += `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; break;
      case 'u': out += String(d.getDay() || 7); break;
      case 'w': out += String(d.getDay()); break;
      case 'y': out += pad(d.getFullYear() % 100); break;
      case 'Y': out += String(d.getFullYear()); break;
      case 'z': out += utcOffset(d); break;
      case 'Z': out += zoneName(d); break;
      case '%': out += '%'; break;
      default: out += `%${k}`;
    }
  }
  return out;
}
