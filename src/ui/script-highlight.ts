/**
 * A tiny YAML and unified-diff highlighter for the operator page (browser JavaScript, as a string).
 * Tokenizers are pure: a line in, `[class, text]` pairs out whose texts join back to exactly the
 * line. Rendering builds spans with textContent, so no input can become markup.
 */
export const HIGHLIGHT_JS = String.raw`
var NUMBER = /^[-+]?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?$/;
var KEY = /^("(?:[^"\\]|\\[\s\S])*"|'(?:[^']|'')*'|[^\s'"#{\[&*!|>%@-][^#]*?|-[^\s#][^#]*?)(\s*)(:)(?=\s|$)([\s\S]*)$/;

/** Tokens of one YAML line: yk key, yv value, ys string, yn number, yb boolean/null, yp punctuation, ya anchor/alias, yc comment. */
function yamlLine(line) {
  var out = [];
  var push = function (cls, text) { if (text) out.push([cls, text]); };
  var body = line;
  var comment = '';
  var quote = null;
  for (var i = 0; i < line.length; i++) {
    var c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if ((c === '"' || c === "'") && (i === 0 || /[\s:\[{,-]/.test(line[i - 1]))) { quote = c; continue; }
    if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) { body = line.slice(0, i); comment = line.slice(i); break; }
  }
  var value = function (v) {
    var m = /^([\s\S]*?)(\s*)$/.exec(v);
    var t = m[1];
    if (!t) { push('', v); return; }
    if (/^(["'])[\s\S]*\1$/.test(t)) push('ys', t);
    else if (NUMBER.test(t)) push('yn', t);
    else if (/^(true|false|null|~|yes|no|on|off)$/i.test(t)) push('yb', t);
    else if (/^([|>][-+0-9]*|---|\.\.\.|\[\]|\{\})$/.test(t)) push('yp', t);
    else if (/^[&*]\S+$/.test(t)) push('ya', t);
    else push('yv', t);
    push('', m[2]);
  };
  var lead = /^(\s*)((?:-(?:\s+|$))*)([\s\S]*)$/.exec(body);
  push('', lead[1]);
  push('yp', lead[2]);
  var rest = lead[3];
  var key = KEY.exec(rest);
  if (key) {
    push('yk', key[1]);
    push('', key[2]);
    push('yp', key[3]);
    var sp = /^(\s*)([\s\S]*)$/.exec(key[4]);
    push('', sp[1]);
    value(sp[2]);
  } else {
    value(rest);
  }
  push('yc', comment);
  return out;
}

/** Lines of a text; the newline that ends the last line does not start another. */
function splitLines(text) {
  var lines = String(text).split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Tokens of every line of a YAML text. */
function tokenizeYaml(text) {
  return splitLines(text).map(yamlLine);
}

/** One class per line of a unified diff: dm header, dh hunk, da added, dd removed, '' context. */
function tokenizeDiff(text) {
  return splitLines(text).map(function (line) {
    var cls = /^(---|\+\+\+) /.test(line) ? 'dm' : line.indexOf('@@') === 0 ? 'dh' : line[0] === '+' ? 'da' : line[0] === '-' ? 'dd' : '';
    return [[cls, line]];
  });
}

/** Render token lines into a code element: one block span per line (CSS numbers them), classed spans per token. */
function renderTokens(code, lines) {
  var frag = document.createDocumentFragment();
  lines.forEach(function (tokens) {
    var lineCls = tokens.length === 1 && /^d[ahdm]$/.test(tokens[0][0]) ? 'line ' + tokens[0][0] : 'line';
    var span = el('span', { className: lineCls });
    tokens.forEach(function (t) {
      span.appendChild(t[0] ? el('span', { className: t[0] }, t[1]) : document.createTextNode(t[1]));
    });
    frag.appendChild(span);
  });
  while (code.firstChild) code.removeChild(code.firstChild);
  code.appendChild(frag);
}
`;
