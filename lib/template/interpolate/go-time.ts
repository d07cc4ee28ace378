/*
 * Time formatting for `isotime` (Go's reference-time layouts) and
 * `strftime` (the jehiah/go-strftime subset Packer vendors). Packer formats
 * its start time in UTC, so every zone token prints the UTC form: `MST` is
 * `UTC`, `-0700` is `+0000` and `Z07:00` is `Z`.
 *
 * JavaScript clocks stop at milliseconds, so nanosecond digits are zeros.
 */

export const RFC3339 = '2006-01-02T15:04:05Z07:00';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

interface Fields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly yearDay: number;
  readonly weekday: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly nanosecond: number;
}

function fieldsOf(date: Date): Fields {
  const startOfYear = Date.UTC(date.getUTCFullYear(), 0, 1);
  const startOfDay = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    yearDay: Math.round((startOfDay - startOfYear) / 86_400_000) + 1,
    weekday: date.getUTCDay(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    nanosecond: date.getUTCMilliseconds() * 1_000_000,
  };
}

function zeroPad(n: number, width: number): string {
  const digits = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${digits}` : digits;
}

type Formatter = (f: Fields) => string;

/** A layout element: the text it is spelled with and what it prints. */
interface Element {
  readonly token: string;
  readonly format: Formatter;
  /** `Jan` and `Mon` are plain text when a lower-case letter follows (`Month`) */
  readonly wordPrefix?: boolean;
}

const hour12 = (f: Fields): number => (f.hour % 12 === 0 ? 12 : f.hour % 12);

/*
 * Candidates per first character, longest first where one token is a prefix
 * of another (`January` before `Jan`, `-07:00:00` before `-07:00`).
 */
const ELEMENTS: Readonly<Record<string, readonly Element[]>> = {
  'J': [
    { token: 'January', format: (f) => MONTHS[f.month - 1] },
    { token: 'Jan', format: (f) => MONTHS[f.month - 1].slice(0, 3), wordPrefix: true },
  ],
  'M': [
    { token: 'Monday', format: (f) => WEEKDAYS[f.weekday] },
    { token: 'Mon', format: (f) => WEEKDAYS[f.weekday].slice(0, 3), wordPrefix: true },
    { token: 'MST', format: () => 'UTC' },
  ],
  '0': [
    { token: '01', format: (f) => zeroPad(f.month, 2) },
    { token: '02', format: (f) => zeroPad(f.day, 2) },
    { token: '03', format: (f) => zeroPad(hour12(f), 2) },
    { token: '04', format: (f) => zeroPad(f.minute, 2) },
    { token: '05', format: (f) => zeroPad(f.second, 2) },
    { token: '06', format: (f) => zeroPad(f.year % 100, 2) },
    { token: '002', format: (f) => zeroPad(f.yearDay, 3) },
  ],
  '1': [
    { token: '15', format: (f) => zeroPad(f.hour, 2) },
    { token: '1', format: (f) => String(f.month) },
  ],
  '2': [
    { token: '2006', format: (f) => zeroPad(f.year, 4) },
    { token: '2', format: (f) => String(f.day) },
  ],
  '_': [
    // `_2006` is a literal underscore followed by the year, so it is no element.
    { token: '__2', format: (f) => String(f.yearDay).padStart(3, ' ') },
    { token: '_2', format: (f) => String(f.day).padStart(2, ' ') },
  ],
  '3': [{ token: '3', format: (f) => String(hour12(f)) }],
  '4': [{ token: '4', format: (f) => String(f.minute) }],
  '5': [{ token: '5', format: (f) => String(f.second) }],
  'P': [{ token: 'PM', format: (f) => (f.hour >= 12 ? 'PM' : 'AM') }],
  'p': [{ token: 'pm', format: (f) => (f.hour >= 12 ? 'pm' : 'am') }],
  '-': ['-07:00:00', '-070000', '-07:00', '-0700', '-07'].map((token) => ({
    token,
    format: () => token.replace('-', '+').replace(/7/g, '0'),
  })),
  'Z': ['Z07:00:00', 'Z070000', 'Z07:00', 'Z0700', 'Z07'].map((token) => ({ token, format: () => 'Z' })),
};

function matchElement(layout: string, at: number): Element | undefined {
  if (layout.startsWith('_2006', at)) return undefined;
  return ELEMENTS[layout[at]]?.find((element) => {
    if (!layout.startsWith(element.token, at)) return false;
    const following = layout[at + element.token.length];
    return !(element.wordPrefix && following !== undefined && following >= 'a' && following <= 'z');
  });
}

/** `.000`/`,000` keep every digit; `.999`/`,999` drop trailing zeros (and the separator if nothing is left). */
function matchFraction(layout: string, at: number): { length: number; text: (f: Fields) => string } | undefined {
  const separator = layout[at];
  const digit = layout[at + 1];
  if ((separator !== '.' && separator !== ',') || (digit !== '0' && digit !== '9')) return undefined;
  let end = at + 1;
  while (layout[end] === digit) end++;
  if (layout[end] !== undefined && layout[end] >= '0' && layout[end] <= '9') return undefined;
  const count = Math.min(end - at - 1, 9);
  return {
    length: end - at,
    text: (f) => {
      let digits = String(f.nanosecond).padStart(9, '0').slice(0, count);
      if (digit === '9') digits = digits.replace(/0+$/, '');
      return digits === '' ? '' : separator + digits;
    },
  };
}

/** Go's time.Time.Format, for a UTC time. */
export function formatGoTime(date: Date, layout: string): string {
  const fields = fieldsOf(date);
  let out = '';
  let i = 0;
  while (i < layout.length) {
    const element = matchElement(layout, i);
    if (element) {
      out += element.format(fields);
      i += element.token.length;
      continue;
    }
    const fraction = matchFraction(layout, i);
    if (fraction) {
      out += fraction.text(fields);
      i += fraction.length;
      continue;
    }
    out += layout[i];
    i++;
  }
  return out;
}

/* The directives go-strftime knows, as Go layouts; anything else stays as written. */
const STRFTIME_LAYOUTS: Readonly<Record<string, string>> = {
  B: 'January',
  b: 'Jan',
  m: '01',
  A: 'Monday',
  a: 'Mon',
  d: '02',
  H: '15',
  I: '03',
  M: '04',
  S: '05',
  Y: '2006',
  y: '06',
  p: 'PM',
  Z: 'MST',
  z: '-0700',
  L: '.000',
};

export function strftime(format: string, date: Date): string {
  let out = '';
  let i = 0;
  while (i < format.length) {
    const percent = format.indexOf('%', i);
    if (percent === -1) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, percent);
    const directive = format.codePointAt(percent + 1);
    if (directive === undefined) {
      out += '%';
      break;
    }
    const ch = String.fromCodePoint(directive);
    const layout = STRFTIME_LAYOUTS[ch];
    if (ch === '%') out += '%';
    else out += layout === undefined ? `%${ch}` : formatGoTime(date, layout);
    i = percent + 1 + ch.length;
  }
  return out;
}
