/**
 * Change detection for the refresh loop: a part of the page is rebuilt only when the data it
 * shows changed, so focus, selection and scroll positions survive the 2-second refresh.
 */

const signatures = new Map<string, string>();

/** True when value differs from the last one seen under key (then remembers it). */
export function changed(key: string, value: unknown): boolean {
  const sig = JSON.stringify(value);
  if (signatures.get(key) === sig) return false;
  signatures.set(key, sig);
  return true;
}

/** Forget the value seen under key: the next changed(key, …) is true. */
export function forget(key: string): void {
  signatures.delete(key);
}
