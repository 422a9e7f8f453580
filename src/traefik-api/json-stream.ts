/**
 * Split a streamed JSON array into its elements as they arrive, so a list of 70,000 routers
 * (30 MB from Traefik's API at 10,000 projects) is handled one object at a time instead of being
 * held, and parsed, whole.
 */

/** Feeds text chunks of one JSON array; calls `onElement` with each top-level element's text. */
export class JsonArraySplitter {
  readonly #onElement: (text: string) => void;
  /** Text of the element being read (chunks it spans). */
  #parts: string[] = [];
  #depth = 0;
  #inString = false;
  #escaped = false;
  #started = false;
  #ended = false;

  constructor(onElement: (text: string) => void) {
    this.#onElement = onElement;
  }

  /** Read one chunk. Throws when the text is not a JSON array of objects or arrays. */
  feed(chunk: string): void {
    let from = -1; // start, in this chunk, of the element text being read
    if (this.#depth > 0) from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === 0x5c /* \ */) this.#escaped = true;
        else if (c === 0x22 /* " */) this.#inString = false;
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      if (!this.#started) {
        if (c !== 0x5b /* [ */) throw new Error('expected a JSON array');
        this.#started = true;
        continue;
      }
      if (this.#ended) throw new Error('text after the end of the JSON array');
      if (this.#depth === 0) {
        if (c === 0x2c /* , */) continue;
        if (c === 0x5d /* ] */) {
          this.#ended = true;
          continue;
        }
        if (c !== 0x7b /* { */ && c !== 0x5b) throw new Error('expected objects in the JSON array');
        from = i;
      }
      if (c === 0x22) this.#inString = true;
      else if (c === 0x7b || c === 0x5b) this.#depth++;
      else if (c === 0x7d /* } */ || c === 0x5d) {
        this.#depth--;
        if (this.#depth === 0) {
          this.#parts.push(chunk.slice(from, i + 1));
          const text = this.#parts.join('');
          this.#parts = [];
          from = -1;
          this.#onElement(text);
        }
      }
    }
    if (this.#depth > 0 && from >= 0) this.#parts.push(chunk.slice(from));
  }

  /** The whole array was read. */
  get done(): boolean {
    return this.#ended;
  }
}
