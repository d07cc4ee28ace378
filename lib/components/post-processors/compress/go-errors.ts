/**
 * Packer's post-processors report file-system failures with Go's `*PathError`
 * text: `open out/x.tar.gz: permission denied`. Kiln's errors say the same, so
 * scripts that match Packer's messages keep working.
 */

/** Go's strerror text for the errno codes a file operation can hit. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'file exists',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  EBUSY: 'device or resource busy',
  EXDEV: 'invalid cross-device link',
  ETXTBSY: 'text file busy',
};

/** The reason part of a Node error in Go's words (`no such file or directory`). */
export function goReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && REASONS[code]) return REASONS[code];
  return e instanceof Error ? e.message : String(e);
}

/** `<op> <path>: <reason>`, as Go's `*os.PathError` prints. */
export function goPathError(op: string, file: string, e: unknown): string {
  return `${op} ${file}: ${goReason(e)}`;
}

/** Go's `%v` of a string slice: `[a b c]`. */
export function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}
