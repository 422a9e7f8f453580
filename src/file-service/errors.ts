/** Errors of the read-only file API: each carries the HTTP status it maps to and a one-line message. */

/** HTTP statuses the file service answers with. */
export type FileServiceStatus = 400 | 403 | 404 | 413 | 500 | 503;

/**
 * A refusal or failure of the file service. `message` names the problem (and quotes the
 * offending input, shortened); it never carries a stack, file content or a path outside the root.
 */
export class FileServiceError extends Error {
  override readonly name = 'FileServiceError';
  constructor(
    readonly status: FileServiceStatus,
    message: string,
  ) {
    super(message);
  }
}

/** Quote user input for an error message: JSON-quoted, at most `max` characters. */
export function quoteInput(value: string, max = 100): string {
  const text = JSON.stringify(value.length > max ? value.slice(0, max) : value);
  return value.length > max ? `${text.slice(0, -1)}…"` : text;
}

/** 400: the request is malformed or leaves the config root. */
export function badPath(raw: string, why: string): FileServiceError {
  return new FileServiceError(400, `path ${quoteInput(raw)} refused: ${why}`);
}

/** 403: key material is never served. */
export function forbiddenPath(raw: string): FileServiceError {
  return new FileServiceError(403, `path ${quoteInput(raw)} refused: private keys (ssl/keys/, *.key) are never served`);
}

/** 404: nothing at that path. */
export function notFound(raw: string, what = 'no such file or directory'): FileServiceError {
  return new FileServiceError(404, `${what}: ${quoteInput(raw)}`);
}
