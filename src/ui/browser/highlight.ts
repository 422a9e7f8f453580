/**
 * A tiny YAML and unified-diff highlighter for the operator page. Tokenizers are pure (no DOM,
 * so they are tested in Node): a line in, `[class, text]` pairs out whose texts join back to
 * exactly the line. viewer.ts renders them as spans with textContent, so no input can become markup.
 */

/**
 * A class and its text. YAML: yk key, yv value, ys string, yn number, yb boolean/null, yp
 * punctuation, ya anchor/alias, yc comment; diff lines: see tokenizeDiff; '' plain text.
 */
export type Token = readonly [cls: string, text: string];

const NUMBER = /^[-+]?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?$/;
const KEY = /^("(?:[^"\\]|\\[\s\S])*"|'(?:[^']|'')*'|[^\s'"#{\[&*!|>%@-][^#]*?|-[^\s#][^#]*?)(\s*)(:)(?=\s|$)([\s\S]*)$/;

/** The line without its comment, and the comment (a # at the start or after a space, outside quotes). */
function splitComment(line: string): [body: string, comment: string] {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if ((c === '"' || c === "'") && (i === 0 || /[\s:\[{,-]/.test(line.charAt(i - 1)))) {
      quote = c;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(line.charAt(i - 1)))) return [line.slice(0, i), line.slice(i)];
  }
  return [line, ''];
}

/** The class of a scalar value. */
function valueClass(t: string): string {
  if (/^(["'])[\s\S]*\1$/.test(t)) return 'ys';
  if (NUMBER.test(t)) return 'yn';
  if (/^(true|false|null|~|yes|no|on|off)$/i.test(t)) return 'yb';
  if (/^([|>][-+0-9]*|---|\.\.\.|\[\]|\{\})$/.test(t)) return 'yp';
  if (/^[&*]\S+$/.test(t)) return 'ya';
  return 'yv';
}

/** Tokens of one YAML line. */
function yamlLine(line: string): Token[] {
  const out: Token[] = [];
  const push = (cls: string, text: string | undefined): void => {
    if (text) out.push([cls, text]);
  };
  const value = (v: string): void => {
    const [, t = '', space = ''] = /^([\s\S]*?)(\s*)$/.exec(v) ?? [];
    if (!t) {
      push('', v);
      return;
    }
    push(valueClass(t), t);
    push('', space);
  };
  const [body, comment] = splitComment(line);
  const [, indent, dashes, rest = ''] = /^(\s*)((?:-(?:\s+|$))*)([\s\S]*)$/.exec(body) ?? [];
  push('', indent);
  push('yp', dashes);
  const key = KEY.exec(rest);
  if (key) {
    push('yk', key[1]);
    push('', key[2]);
    push('yp', key[3]);
    const [, space, val = ''] = /^(\s*)([\s\S]*)$/.exec(key[4] ?? '') ?? [];
    push('', space);
    value(val);
  } else {
    value(rest);
  }
  push('yc', comment);
  return out;
}

/** Lines of a text; the newline that ends the last line does not start another. */
export function splitLines(text: string): string[] {
  const lines = String(text).split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Tokens of every line of a YAML text. */
export function tokenizeYaml(text: string): Token[][] {
  return splitLines(text).map(yamlLine);
}

/** One class per line of a unified diff: dm header, dh hunk, da added, dd removed, '' context. */
export function tokenizeDiff(text: string): Token[][] {
  return splitLines(text).map((line) => {
    const cls = /^(---|\+\+\+) /.test(line) ? 'dm' : line.startsWith('@@') ? 'dh' : line[0] === '+' ? 'da' : line[0] === '-' ? 'dd' : '';
    return [[cls, line]];
  });
}
