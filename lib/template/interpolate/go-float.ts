/*
 * Go formats floats from their exact binary value and rounds ties to even
 * (`%.1f` of 2.25 is `2.2`), while Number#toFixed rounds ties away from
 * zero. Working on the exact decimal expansion (via BigInt) gives Go's
 * digits for every precision; the shortest form comes from JavaScript,
 * which, like Go, prints the shortest digits that read back the same.
 */

/** value = 0.digits × 10^point, digits without leading zeros ("" for zero). */
interface Decimal {
  readonly digits: string;
  readonly point: number;
}

function exactDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', point: 0 };
  let scaled = x;
  let halvings = 0;
  while (!Number.isInteger(scaled)) {
    scaled *= 2;
    halvings++;
  }
  // x = scaled / 2^h = scaled × 5^h / 10^h
  const digits = (BigInt(scaled) * 5n ** BigInt(halvings)).toString();
  return trimZeros({ digits, point: digits.length - halvings });
}

function shortestDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', point: 0 };
  const [mantissa, exponent] = x.toExponential().split('e');
  const digits = mantissa.replace('.', '');
  return trimZeros({ digits, point: Number(exponent) + 1 });
}

function trimZeros(d: Decimal): Decimal {
  const digits = d.digits.replace(/0+$/, '');
  return digits === '' ? { digits: '', point: 0 } : { digits, point: d.point };
}

/** Keeps `count` leading digits, rounding half to even. */
function roundTo(d: Decimal, count: number): Decimal {
  if (count < 0 || count >= d.digits.length) return d;
  const kept = d.digits.slice(0, count);
  const first = d.digits[count];
  const tie = first === '5' && /^0*$/.test(d.digits.slice(count + 1));
  const lastKeptOdd = count > 0 && Number(kept[count - 1]) % 2 === 1;
  const roundUp = first > '5' || (first === '5' && (!tie || lastKeptOdd));
  if (!roundUp) return trimZeros({ digits: kept, point: d.point });
  const bumped = (BigInt(kept === '' ? '0' : kept) + 1n).toString();
  if (bumped.length > count) return trimZeros({ digits: bumped, point: d.point + 1 });
  return trimZeros({ digits: bumped, point: d.point });
}

function digitAt(d: Decimal, index: number): string {
  return index >= 0 && index < d.digits.length ? d.digits[index] : '0';
}

function formatE(d: Decimal, fractionDigits: number, letter: 'e' | 'E'): string {
  let out = digitAt(d, 0);
  if (fractionDigits > 0) {
    out += '.';
    for (let i = 1; i <= fractionDigits; i++) out += digitAt(d, i);
  }
  const exp = d.digits === '' ? 0 : d.point - 1;
  const expDigits = String(Math.abs(exp)).padStart(2, '0');
  return `${out}${letter}${exp < 0 ? '-' : '+'}${expDigits}`;
}

function formatF(d: Decimal, fractionDigits: number): string {
  let out = d.point > 0 ? '' : '0';
  for (let i = 0; i < d.point; i++) out += digitAt(d, i);
  if (fractionDigits > 0) {
    out += '.';
    for (let i = 0; i < fractionDigits; i++) out += digitAt(d, d.point + i);
  }
  return out;
}

export type FloatVerb = 'e' | 'E' | 'f' | 'F' | 'g' | 'G';

/**
 * strconv.FormatFloat(x, verb, precision, 64) for a finite, non-negative x;
 * precision -1 means "shortest that round-trips". The caller adds the sign.
 */
export function formatUnsignedFloat(x: number, verb: FloatVerb, precision: number): string {
  const shortest = precision < 0;
  switch (verb) {
    case 'e':
    case 'E': {
      const d = shortest ? shortestDecimal(x) : roundTo(exactDecimal(x), precision + 1);
      return formatE(d, shortest ? Math.max(d.digits.length - 1, 0) : precision, verb);
    }
    case 'f':
    case 'F': {
      if (shortest) {
        const d = shortestDecimal(x);
        return formatF(d, Math.max(d.digits.length - d.point, 0));
      }
      const exact = exactDecimal(x);
      return formatF(roundTo(exact, exact.point + precision), precision);
    }
    case 'g':
    case 'G': {
      const d = shortest ? shortestDecimal(x) : roundTo(exactDecimal(x), precision === 0 ? 1 : precision);
      const digitCount = d.digits.length;
      let kept = shortest ? digitCount : Math.max(precision, 1);
      // strconv switches to exponent form at 6 digits for the shortest form, else at the precision
      let limit = kept;
      if (limit > digitCount && digitCount >= d.point) limit = digitCount;
      if (shortest) limit = 6;
      const exp = d.point - 1;
      if (exp < -4 || exp >= limit) {
        return formatE(d, Math.min(kept, digitCount) - 1, verb === 'g' ? 'e' : 'E');
      }
      if (kept > d.point) kept = digitCount;
      return formatF(d, Math.max(kept - d.point, 0));
    }
  }
}
