import { NOW, renderError, renderIn } from './helpers';
import { formatGoTime, strftime } from '../../../lib/template/interpolate';

/*
 * isotime uses Go reference-time layouts; strftime the go-strftime subset.
 * Packer formats its clock in UTC. NOW is Saturday 2026-11-21 12:54:45.699
 * UTC, day 325. Token outputs were checked with packer 1.6.6 at that moment.
 */

describe('isotime', () => {
  test('without an argument isotime is RFC 3339 in UTC', () => {
    expect(renderIn('{{ isotime }}')).toBe('2026-11-21T12:54:45Z');
  });

  test('with a layout isotime formats the time like Go', () => {
    expect(renderIn('{{ isotime "2006-01-02" }}')).toBe('2026-11-21');
  });

  test('more than one layout is an error', () => {
    expect(renderError('{{ isotime "a" "b" }}'))
      .toBe('template: root:1:3: executing "root" at <isotime "a" "b">: error calling isotime: too many values, 1 needed: [a b]');
  });

  test('isotime pipes into other functions', () => {
    expect(renderIn('{{ isotime "Jan" | upper }}')).toBe('NOV');
  });
});

describe('Go layout tokens', () => {
  test.each([
    ['2006', '2026'], ['06', '26'],
    ['01', '11'], ['1', '11'], ['Jan', 'Nov'], ['January', 'November'],
    ['02', '21'], ['2', '21'], ['_2', '21'], ['__2', '325'], ['002', '325'],
    ['15', '12'], ['03', '12'], ['3', '12'],
    ['04', '54'], ['4', '54'], ['05', '45'], ['5', '45'],
    ['PM', 'PM'], ['pm', 'pm'],
    ['Mon', 'Sat'], ['Monday', 'Saturday'],
    ['MST', 'UTC'],
    ['-0700', '+0000'], ['-07:00', '+00:00'], ['-07', '+00'], ['-070000', '+000000'], ['-07:00:00', '+00:00:00'],
    ['Z07:00', 'Z'], ['Z0700', 'Z'], ['Z07', 'Z'], ['Z070000', 'Z'], ['Z07:00:00', 'Z'],
    ['.000', '.699'], ['.999', '.699'], [',000', ',699'], [',999', ',699'],
    ['.000000000', '.699000000'], ['.999999999', '.699'],
    ['.9x', '.6x'], ['.0x', '.6x'],
  ])('%s prints %s', (layout, expected) => {
    expect(formatGoTime(NOW, layout)).toBe(expected);
  });

  test('anything else is copied, including digits that are not a token', () => {
    expect(formatGoTime(NOW, '0.0 1.5 05.00 05.0000 20066 T:x')).toBe('0.6 11.45 45.69 45.6990 20266 T:x');
  });

  test('_2006 is an underscore followed by the year', () => {
    expect(formatGoTime(NOW, '_2006')).toBe('_2026');
  });

  test('Jan and Mon followed by a lower-case letter are plain words', () => {
    expect(formatGoTime(NOW, 'Month Janx Mon. Jan1')).toBe('Month Janx Sat. Nov11');
  });

  test('tokens run into each other', () => {
    expect(formatGoTime(NOW, 'Jan_2 Januaryx Mondayy MSTT 2006-1-2T15:4:5')).toBe('Nov21 Novemberx Saturdayy UTCT 2026-11-21T12:54:45');
  });

  test('the 12-hour clock, padded days and a morning time', () => {
    const morning = new Date(Date.UTC(2021, 0, 5, 0, 7, 9, 30));
    expect(formatGoTime(morning, '3:04:05 PM pm|_2|__2|002|.999|Mon Jan')).toBe('12:07:09 AM am| 5|  5|005|.03|Tue Jan');
  });
});

describe('strftime', () => {
  test('strftime knows the go-strftime directives', () => {
    expect(renderIn('{{ strftime "%a %A %b %B %d %H %I %m %M %p %S %y %Y %z %Z %L %%" }}'))
      .toBe('Sat Saturday Nov November 21 12 12 11 54 PM 45 26 2026 +0000 UTC .699 %');
  });

  test('other directives are printed as written', () => {
    expect(strftime('%j %e %k %f %c %x %X %D %T %F %s %n %t', NOW)).toBe('%j %e %k %f %c %x %X %D %T %F %s %n %t');
  });

  test('a lone percent sign at the end stays', () => {
    expect(strftime('100%', NOW)).toBe('100%');
  });

  test('text around directives is kept', () => {
    expect(strftime('build-%Y%m%d-%H%M', NOW)).toBe('build-20261121-1254');
  });
});
