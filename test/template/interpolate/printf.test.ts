import { renderIn } from './helpers';

/* printf is Go's fmt.Sprintf; every expectation here was checked with packer 1.6.6. */

const printf = (args: string): string => renderIn(`{{ printf ${args} }}`);

describe('printf verbs', () => {
  test.each([
    ['"%s|%v" "a" "b"', 'a|b'],
    ['"%d|%v" 42 42', '42|42'],
    ['"%q" "a\\"b"', '"a\\"b"'],
    ['"%q %q %#q" "é\\n\\x01" 65 "a`"', '"é\\n\\x01" \'A\' "a`"'],
    ['"%#q" "ab"', '`ab`'],
    ['"%x|%X|%x" "hi" 255 -255', '6869|FF|-ff'],
    ['"%x % x %#x %X" "hé" "ab" 255 "hé"', '68c3a9 61 62 0xff 68C3A9'],
    ['"%t|%v" true false', 'true|false'],
    ['"%d%%" 5', '5%'],
    ['"%o|%O|%#o|%b|%#b" 8 8 8 5 5', '10|0o10|010|101|0b101'],
    ['"%c%c" 0x1F600 233', '😀é'],
    ['"%U|%#U" 65 0x1F600', 'U+0041|U+1F600 \'😀\''],
    ['"%T %T %T %T" 1 "a" 1.5 nil', 'int string float64 <nil>'],
    ['"%#v %+v" "a" 1', '"a" 1'],
  ])('printf %s', (args, expected) => {
    expect(printf(args)).toBe(expected);
  });
});

describe('printf width, precision and flags', () => {
  test.each([
    ['"%05d|%-4s|" 3 "ab"', '00003|ab  |'],
    ['"%5s|%-5s|%.1s|%05s" "ab" "ab" "ab" "ab"', '   ab|ab   |a|000ab'],
    ['"%5.2s|" "héllo"', '   hé|'],
    ['"%-5d|%+d|% d|%08d|%+05d" 42 5 3 -42 7', '42   |+5| 3|-0000042|+0007'],
    ['"%.3d|%.0d|%5.3d" 7 0 42', '007||  042'],
    ['"%*d|%-*d|" 5 1 4 7', '    1|7   |'],
    ['"%.*f" 2 3.14159', '3.14'],
    ['"%[2]d %[1]d" 1 2', '2 1'],
    ['"%10.4v|%-10v|" "abcdefgh" true', '      abcd|true      |'],
  ])('printf %s', (args, expected) => {
    expect(printf(args)).toBe(expected);
  });
});

describe('printf floats', () => {
  test.each([
    ['"%f|%.2f|%5.1f" 1.5 3.14159 2.25', '1.500000|3.14|  2.2'],
    ['"%e|%g|%.3g" 123456.789 0.000012345 1234.5', '1.234568e+05|1.2345e-05|1.23e+03'],
    ['"%v %v %v %v" 1.0 1e6 123456.0 nil', '1 1e+06 123456 <nil>'],
    ['"%v %v %v %.3g" 1.5e300 0.0001 0.00001 1.0', '1.5e+300 0.0001 1e-05 1'],
    ['"%.0f %.0f %.0f %.1f" 0.5 1.5 2.5 0.25', '0 2 2 0.2'],
    ['"%g|%.0f|%.1e|%8.3f|%-8.2f|%+.1f" 100000000.0 2.5 12345.0 3.14159 2.5 3.0', '1e+08|2|1.2e+04|   3.142|2.50    |+3.0'],
    ['"%08.3f|%+08.2f|% .1f" 3.14159 -3.5 2.0', '0003.142|-0003.50| 2.0'],
    ['"%e %E %G" 0.0 1e-7 1e-5', '0.000000e+00 1.000000E-07 1E-05'],
  ])('printf %s', (args, expected) => {
    expect(printf(args)).toBe(expected);
  });

  test('ties round to even, from the exact binary value', () => {
    expect(printf('"%.2f %.1f %.0f" 1.005 0.35 3.5')).toBe('1.00 0.3 4');
  });
});

describe('printf mistakes print Go\'s markers', () => {
  test.each([
    ['"%d %s" 1', '1 %!s(MISSING)'],
    ['"%d" "x"', '%!d(string=x)'],
    ['"%s" 1 2', '%!s(int=1)%!(EXTRA int=2)'],
    ['"%d %d" 1 2 3 "x"', '1 2%!(EXTRA int=3, string=x)'],
    ['"%!"', '%!!(MISSING)'],
    ['"%z" 1', '%!z(int=1)'],
    ['"%d" 1.0', '%!d(float64=1)'],
    ['"%s|%d" nil .Missing', '%!s(<nil>)|%!d(<nil>)'],
    ['"%v|%s" (split "a" "," 0) true', 'a|%!s(bool=true)'],
    ['"%"', '%!(NOVERB)'],
    ['"%[3]d" 1', '%!d(BADINDEX)'],
  ])('printf %s', (args, expected) => {
    expect(printf(args)).toBe(expected);
  });
});
