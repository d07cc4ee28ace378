/*
 * Go works on UTF-8 bytes and runes; JavaScript on UTF-16 code units. These
 * helpers give Go's answers for the few questions the template engine asks.
 */

const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}_]$/u;
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Spaces that separate words inside an action (Go 1.16+ allows newlines there). */
export function isTemplateSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

/** Go's lexer: a letter, a decimal digit or `_`. */
export function isAlphaNumeric(ch: string | undefined): boolean {
  return ch !== undefined && (ch === '_' || LETTER_OR_DIGIT.test(ch));
}

/** Go's unicode.IsPrint: graphic characters plus the ASCII space only. */
export function isPrint(ch: string): boolean {
  return PRINTABLE.test(ch);
}

/** The code point starting at `index`, as a one- or two-unit string. */
export function runeAt(text: string, index: number): string | undefined {
  const cp = text.codePointAt(index);
  return cp === undefined ? undefined : String.fromCodePoint(cp);
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function hex4(cp: number): string {
  return cp.toString(16).toUpperCase().padStart(4, '0');
}

/** Go's `%#U`: `U+0022 '"'`, or just `U+0001` when the rune is not printable. */
export function describeRune(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return isPrint(ch) ? `U+${hex4(cp)} '${ch}'` : `U+${hex4(cp)}`;
}

/** Go's `%U`. */
export function runeCodeLabel(cp: number): string {
  return `U+${hex4(cp)}`;
}

/**
 * Go's strings.ToUpper/ToLower map one rune to one rune. JavaScript applies
 * full case folding (`ß` -> `SS`), so a rune whose mapping is longer keeps
 * its original form, except the one lower-case mapping Go does have.
 */
const SIMPLE_LOWER_EXCEPTIONS: Readonly<Record<string, string>> = { İ: 'i' };

export function goToUpper(text: string): string {
  let out = '';
  for (const ch of text) {
    const mapped = ch.toUpperCase();
    out += [...mapped].length === 1 ? mapped : ch;
  }
  return out;
}

export function goToLower(text: string): string {
  let out = '';
  for (const ch of text) {
    const mapped = SIMPLE_LOWER_EXCEPTIONS[ch] ?? ch.toLowerCase();
    out += [...mapped].length === 1 ? mapped : ch;
  }
  return out;
}
