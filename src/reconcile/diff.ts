/** Unified diffs of database-desired vs disk, with key material and other secrets masked. */
import { createTwoFilesPatch } from 'diff';
import { maskSecrets, redact } from '../redact.js';
import type { FileChange } from './sync-service.js';

/** True for files whose content must never be shown (private keys). */
export function isSecretPath(path: string): boolean {
  return path.startsWith('ssl/keys/') || path.endsWith('.key');
}

/** One unified diff for a change: `a/` is the disk, `b/` the database's desired content. */
export function unifiedDiff(change: FileChange): string {
  const from = change.before === null ? '/dev/null' : `a/${change.path}`;
  const to = change.after === null ? '/dev/null' : `b/${change.path}`;
  // git's extended header lines for a mode change (the text may be the same).
  const modes = change.mode ? `old mode ${octal(change.mode.before)}\nnew mode ${octal(change.mode.after)}\n` : '';
  if (isSecretPath(change.path)) {
    const what =
      change.op === 'delete'
        ? 'would be removed'
        : change.op === 'create'
          ? 'would be written'
          : change.before === change.after
            ? 'unchanged, mode differs'
            : 'differs';
    return `${modes}--- ${from}\n+++ ${to}\n@@ private key ${what} (content masked) @@\n`;
  }
  // Both sides masked by the one function that masks file content (src/redact.ts), then compared.
  const before = maskSecrets(change.before ?? '').text;
  const after = maskSecrets(change.after ?? '').text;
  if (before === after && change.before !== change.after) {
    return `--- ${from}\n+++ ${to}\n@@ only secret values differ (content masked) @@\n`;
  }
  const patch = createTwoFilesPatch(from, to, before, after, '', '', { context: 3 });
  // Drop the "Index:"/"===" preamble of the diff package; keep standard ---/+++ headers.
  const body = patch
    .split('\n')
    .filter((l, i) => !(i < 2 && (l.startsWith('Index:') || l.startsWith('===='))))
    .join('\n');
  return modes + redact(body.replace(/\t\n/g, '\n'));
}

/** A file mode as git prints it in a diff (regular file: 100644). */
function octal(mode: number): string {
  return (0o100000 | mode).toString(8);
}
