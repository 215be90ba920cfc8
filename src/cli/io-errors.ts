/**
 * File-system errors (Node's errno errors: EACCES, ENOENT, EEXIST, ENOTDIR, ENOSPC, …) turned
 * into one clear line naming the operation, the path and the cause, with a hint where one helps.
 * They are the user's environment, not a bug in lethe, so the CLI reports them like LetheErrors.
 */
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const CAUSES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  EEXIST: 'it already exists',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  ENOTEMPTY: 'the folder is not empty',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EBUSY: 'the file or folder is busy',
  EXDEV: 'source and destination are on different file systems',
  EIO: 'input/output error',
};

const VERBS: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the folder',
  rmdir: 'remove the folder',
  unlink: 'remove',
  rm: 'remove',
  rename: 'rename',
  scandir: 'list the folder',
  opendir: 'list the folder',
  stat: 'read',
  lstat: 'read',
  access: 'access',
  copyfile: 'copy',
  symlink: 'create the link',
  link: 'create the link',
  readlink: 'read the link',
  fsync: 'flush',
  ftruncate: 'truncate',
  utime: 'set the times of',
  chmod: 'change the mode of',
};

interface ErrnoLike {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

/** The errno error in err or its cause chain, when it carries a known code. */
function errnoOf(err: unknown): ErrnoLike | null {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in CAUSES) return e as ErrnoLike;
  }
  return null;
}

/** The first component of path that is a symbolic link whose target does not exist, if any. */
export function danglingLink(path: string): { link: string; target: string } | null {
  const chain: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of chain) {
    let isLink = false;
    try {
      isLink = lstatSync(p).isSymbolicLink();
    } catch {
      return null; // the path really is missing from here on
    }
    if (!isLink) continue;
    try {
      statSync(p);
    } catch {
      return { link: p, target: readlinkSync(p) };
    }
  }
  return null;
}

function hint(e: ErrnoLike): string | null {
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'check the permissions of the file and its folder, or choose another location';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'free some space (`lethe cache prune --all` removes cached models), or write elsewhere';
    case 'EEXIST':
      return 'remove it or choose another name';
    case 'ENOTDIR':
      return 'a file stands where a folder is expected: remove it or choose another path';
    case 'EMFILE':
    case 'ENFILE':
      return 'raise the open-file limit (ulimit -n)';
    default:
      return null;
  }
}

/** One line for a file-system error (with a hint on a second line), or null for other errors. */
export function describeIoError(err: unknown): string | null {
  const e = errnoOf(err);
  if (!e) return null;
  const verb = VERBS[e.syscall ?? ''] ?? e.syscall ?? 'access';
  const where = e.path ? ` ${e.path}${e.dest ? ` to ${e.dest}` : ''}` : '';
  let cause = CAUSES[e.code];
  let h = hint(e);
  // A link to nothing shows up as ENOENT, or as ENOTDIR/EEXIST when a folder is made through it.
  const d = ['ENOENT', 'ENOTDIR', 'EEXIST'].includes(e.code)
    ? ((e.path ? danglingLink(e.path) : null) ?? (e.dest ? danglingLink(e.dest) : null))
    : null;
  if (d) {
    cause = `${d.link} is a symbolic link to ${d.target}, which does not exist`;
    h = 'create the target, or remove the link';
  }
  return `cannot ${verb}${where}: ${cause} (${e.code})${h ? `\n  hint: ${h}` : ''}`;
}
