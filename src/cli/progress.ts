/**
 * A progress line for long commands on a terminal (`sync --once`): done / total, rate, time left,
 * rewritten in place at most every 200 ms and cleared at the end. Nothing when the stream is not a
 * terminal (a log file, a pipe, a Kubernetes init container): logs carry the summary there.
 */

/** Where the line goes: a terminal (`isTTY`), usually process.stderr. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** The progress of `what` (e.g. "projects"); `update` as it goes, `end` once done. */
export interface Progress {
  update(done: number, total: number): void;
  end(): void;
}

const EVERY_MS = 200;

/** The line itself: "1,200 / 10,000 projects · 850/s · 10 s left". */
export function progressText(what: string, done: number, total: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const left = rate > 0 ? Math.ceil((total - done) / rate) : null;
  const time = left === null ? '' : ` · ${left >= 60 ? `${Math.floor(left / 60)} min ${left % 60} s` : `${left} s`} left`;
  return `${done.toLocaleString('en')} / ${total.toLocaleString('en')} ${what} · ${Math.round(rate).toLocaleString('en')}/s${time}`;
}

/** A progress line on `stream` if it is a terminal, else one that writes nothing. */
export function progressLine(stream: ProgressStream, what: string, now: () => number = Date.now): Progress {
  if (!stream.isTTY) return { update() {}, end() {} };
  const started = now();
  let shown = -Infinity;
  let drawn = false;
  return {
    update(done, total) {
      const t = now();
      if (t - shown < EVERY_MS && done < total) return;
      shown = t;
      drawn = true;
      stream.write(`\r\x1b[K${progressText(what, done, total, t - started)}`);
    },
    end() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
