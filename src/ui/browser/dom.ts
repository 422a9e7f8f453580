/**
 * DOM helpers of the operator page. Everything shown is built with createElement/textContent —
 * never innerHTML — so file contents, paths and error messages (attacker-controlled text) are
 * always rendered as text.
 */

/** A child for el(): a node, or text (strings and numbers become text nodes); null, undefined and false are skipped. */
export type Child = Node | string | number | null | undefined | false;

/** One child or a list of them. */
export type Children = Child | readonly Child[];

/**
 * Attributes for el(): className, onclick (a click listener); any other is set with setAttribute
 * (true: present and empty; null, undefined, false: absent).
 */
export type Attrs = Readonly<Record<string, string | number | boolean | null | undefined | (() => void)>>;

/** The colour of a badge. */
export type BadgeKind = 'ok' | 'warn' | 'bad' | 'muted';

/** The page's element with this id (the page is static HTML: a missing one is a bug, thrown as such). */
export function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

function append(node: Node, children: Children): void {
  const list: readonly Child[] = Array.isArray(children) ? children : [children as Child];
  for (const c of list) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Build an element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, children?: Children): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') {
      if (k === 'onclick') node.addEventListener('click', v);
    } else if (k === 'className') node.className = String(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

/** Replace a container's children, keeping keyboard focus on the element with the same data-key. */
export function replaceChildren(container: Element, children: Children): void {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  while (container.firstChild) container.removeChild(container.firstChild);
  append(container, children);
  if (key) container.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

/** A small coloured label. */
export function badge(text: string, kind: BadgeKind): HTMLSpanElement {
  return el('span', { className: `badge badge-${kind}` }, text);
}

function fmtTime(iso: string): string {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** A timestamp in the reader's locale (the ISO text as its tooltip), or "never". */
export function timeEl(iso: string | null | undefined): HTMLElement {
  return iso ? el('time', { datetime: iso, title: iso }, fmtTime(iso)) : el('span', { className: 'muted' }, 'never');
}

/** A byte count in B, KiB or MiB. */
export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
