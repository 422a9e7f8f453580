/**
 * Browser-side helpers of the operator page (plain JavaScript, as a string). Everything shown is
 * built with createElement/textContent — never innerHTML — so file contents, paths and error
 * messages (attacker-controlled text) are always rendered as text.
 */
export const DOM_JS = String.raw`
var byId = function (id) { return document.getElementById(id); };

function append(node, children) {
  if (children === undefined || children === null || children === false) return;
  if (!Array.isArray(children)) children = [children];
  children.forEach(function (c) {
    if (c === null || c === undefined || c === false) return;
    node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  });
}

/** Build an element: attrs.className, attrs.onclick, attrs.text; other attrs via setAttribute. */
function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) {
    var v = attrs[k];
    if (v === null || v === undefined || v === false) return;
    if (k === 'className') node.className = v;
    else if (k === 'onclick') node.addEventListener('click', v);
    else if (k === 'text') node.textContent = String(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  });
  append(node, children);
  return node;
}

/** Replace a container's children, keeping keyboard focus on the element with the same data-key. */
function replaceChildren(container, children) {
  var active = document.activeElement;
  var key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  while (container.firstChild) container.removeChild(container.firstChild);
  append(container, children);
  if (key) {
    var again = container.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (again) again.focus();
  }
}

/** GET a JSON endpoint: resolves {status, ok, body}; body is {error} when the answer is not JSON. */
function getJson(url) {
  return fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' }).then(function (res) {
    return res.json().catch(function () { return { error: 'HTTP ' + res.status }; }).then(function (body) {
      return { status: res.status, ok: res.ok, body: body };
    });
  });
}

function fmtTime(iso) {
  if (!iso) return 'never';
  var d = new Date(iso);
  return isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

function timeEl(iso) {
  return iso ? el('time', { datetime: iso, title: iso }, fmtTime(iso)) : el('span', { className: 'muted' }, 'never');
}

function fmtBytes(n) {
  if (typeof n !== 'number') return '';
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}

function apiUrl(endpoint, path) {
  return '/api/v1/' + endpoint + '?path=' + encodeURIComponent(path);
}

function badge(text, kind) {
  return el('span', { className: 'badge badge-' + kind }, text);
}

var signatures = {};
/** True when value differs from the last one seen under key (then remembers it). */
function changed(key, value) {
  var sig = JSON.stringify(value);
  if (signatures[key] === sig) return false;
  signatures[key] = sig;
  return true;
}
`;
