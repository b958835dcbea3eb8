// strftime(3) for `<!--#config timefmt -->` (C locale), as lighttpd's mod_ssi formats DATE_LOCAL,
// DATE_GMT, LAST_MODIFIED and flastmod: local time from the server's TZ, or UTC.

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** lighttpd's format when no timefmt was configured. */
export const DEFAULT_TIMEFMT = '%a, %d %b %Y %T %Z';

interface Fields {
  year: number; month: number; day: number; weekday: number;
  hours: number; minutes: number; seconds: number;
  /** Minutes east of UTC. */
  offsetMin: number;
  zone: string;
}

const pad = (n: number, width: number, fill = '0') => String(n).padStart(width, fill);

function fields(ms: number, local: boolean): Fields {
  const d = new Date(ms);
  if (!local) {
    return {
      year: d.getUTCFullYear(), month: d.getUTCMonth(), day: d.getUTCDate(), weekday: d.getUTCDay(),
      hours: d.getUTCHours(), minutes: d.getUTCMinutes(), seconds: d.getUTCSeconds(), offsetMin: 0, zone: 'GMT',
    };
  }
  return {
    year: d.getFullYear(), month: d.getMonth(), day: d.getDate(), weekday: d.getDay(),
    hours: d.getHours(), minutes: d.getMinutes(), seconds: d.getSeconds(),
    offsetMin: -d.getTimezoneOffset(), zone: localZoneName(d),
  };
}

/** The abbreviation of the local zone at `d` ("UTC", "CET", "GMT+2" where none exists). */
function localZoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'UTC';
}

function dayOfYear(f: Fields): number {
  return Math.round((Date.UTC(f.year, f.month, f.day) - Date.UTC(f.year, 0, 1)) / 86_400_000) + 1;
}

/**
 * Format `ms` (ms since the epoch) with a strftime(3) format. Conversions outside the C
 * standard's common set are copied as written, as glibc does with an unknown one.
 */
export function strftime(format: string, ms: number, local: boolean): string {
  const f = fields(ms, local);
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%' || i + 1 === format.length) { out += c; continue; }
    const k = format[++i]!;
    switch (k) {
      case 'a': out += DAYS[f.weekday]!.slice(0, 3); break;
      case 'A': out += DAYS[f.weekday]; break;
      case 'b': case 'h': out += MONTHS[f.month]!.slice(0, 3); break;
      case 'B': out += MONTHS[f.month]; break;
      case 'c': out += strftime('%a %b %e %H:%M:%S %Y', ms, local); break;
      case 'C': out += pad(Math.floor(f.year / 100), 2); break;
      case 'd': out += pad(f.day, 2); break;
      case 'D': out += strftime('%m/%d/%y', ms, local); break;
      case 'e': out += pad(f.day, 2, ' '); break;
      case 'F': out += strftime('%Y-%m-%d', ms, local); break;
      case 'H': out += pad(f.hours, 2); break;
      case 'I': out += pad(f.hours % 12 || 12, 2); break;
      case 'j': out += pad(dayOfYear(f), 3); break;
      case 'k': out += pad(f.hours, 2, ' '); break;
      case 'l': out += pad(f.hours % 12 || 12, 2, ' '); break;
      case 'm': out += pad(f.month + 1, 2); break;
      case 'M': out += pad(f.minutes, 2); break;
      case 'n': out += '\n'; break;
      case 'p': out += f.hours < 12 ? 'AM' : 'PM'; break;
      case 'r': out += strftime('%I:%M:%S %p', ms, local); break;
      case 'R': out += strftime('%H:%M', ms, local); break;
      case 's': out += String(Math.floor(ms / 1000)); break;
      case 'S': out += pad(f.seconds, 2); break;
      case 't': out += '\t'; break;
      case 'T': out += strftime('%H:%M:%S', ms, local); break;
      case 'u': out += String(f.weekday || 7); break;
      case 'w': out += String(f.weekday); break;
      case 'x': out += strftime('%m/%d/%y', ms, local); break;
      case 'X': out += strftime('%H:%M:%S', ms, local); break;
      case 'y': out += pad(f.year % 100, 2); break;
      case 'Y': out += String(f.year); break;
      case 'z': {
        const a = Math.abs(f.offsetMin);
        out += (f.offsetMin < 0 ? '-' : '+') + pad(Math.floor(a / 60), 2) + pad(a % 60, 2);
        break;
      }
      case 'Z': out += f.zone; break;
      case '%': out += '%'; break;
      default: out += '%' + k;
    }
  }
  return out;
}
