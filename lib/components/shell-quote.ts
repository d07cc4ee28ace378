/** Quotes a word for a POSIX `/bin/sh`: as it is when nothing in it is special, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\-+=.,/:@%]+$/.test(s) ? s : `'${s.replace(/'/g, '\'"\'"\'')}'`;
}
