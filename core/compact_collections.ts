/**
 * `CompactSet` and `CompactMap`: a set and a map for the small collections a
 * hub keeps per connection and per topic. A JavaScript engine gives every
 * `Set` or `Map` a hash table of its own on first insert (about 350–470 bytes
 * in JavaScriptCore, Bun's engine), while most of these hold one or two
 * entries: a personal topic has one subscriber, a connection a few topics.
 * Not exported from the package.
 *
 * @module
 */

/** A set that holds a single member without a `Set`. */
export class CompactSet<T> implements Iterable<T> {
  /** The member while there is exactly one and no `Set`. */
  #one: T | undefined;
  #hasOne = false;
  /** Once a second member comes; kept until the set is empty. */
  #many: Set<T> | undefined;

  /** The number of members. */
  get size(): number {
    return this.#many !== undefined ? this.#many.size : this.#hasOne ? 1 : 0;
  }

  /** Whether `value` is a member. */
  has(value: T): boolean {
    return this.#many !== undefined ? this.#many.has(value) : this.#hasOne && this.#one === value;
  }

  /** Adds `value`. */
  add(value: T): this {
    if (this.#many !== undefined) this.#many.add(value);
    else if (!this.#hasOne) {
      this.#one = value;
      this.#hasOne = true;
    } else if (this.#one !== value) {
      this.#many = new Set([this.#one as T, value]);
      this.#one = undefined;
      this.#hasOne = false;
    }
    return this;
  }

  /** Removes `value`; whether it was a member. */
  delete(value: T): boolean {
    const many = this.#many;
    if (many !== undefined) {
      const deleted = many.delete(value);
      if (many.size === 0) this.#many = undefined;
      return deleted;
    }
    if (!this.#hasOne || this.#one !== value) return false;
    this.#one = undefined;
    this.#hasOne = false;
    return true;
  }

  /**
   * The members in insertion order. As with a `Set`, a member deleted while
   * iterating is not visited if not visited yet; one added while iterating a
   * single member is not visited.
   */
  [Symbol.iterator](): Iterator<T> {
    if (this.#many !== undefined) return this.#many.values();
    return (this.#hasOne ? [this.#one as T] : [])[Symbol.iterator]();
  }
}

/** At most this many entries are kept in a flat array; one more moves them into a `Map`. */
const ARRAY_ENTRIES = 8;

/**
 * A map that keeps up to 8 entries in one flat array (`[key, value, key,
 * value, …]`, looked up by `===`), and moves them into a `Map` past that.
 */
export class CompactMap<K, V> implements Iterable<[K, V]> {
  #flat: unknown[] | undefined;
  #map: Map<K, V> | undefined;

  /** The number of entries. */
  get size(): number {
    return this.#map !== undefined ? this.#map.size : this.#flat === undefined ? 0 : this.#flat.length >> 1;
  }

  #index(key: K): number {
    const flat = this.#flat;
    if (flat === undefined) return -1;
    for (let i = 0; i < flat.length; i += 2) if (flat[i] === key) return i;
    return -1;
  }

  /** The value for `key`, or `undefined`. */
  get(key: K): V | undefined {
    if (this.#map !== undefined) return this.#map.get(key);
    const i = this.#index(key);
    return i === -1 ? undefined : this.#flat![i + 1] as V;
  }

  /** Whether `key` has an entry. */
  has(key: K): boolean {
    return this.#map !== undefined ? this.#map.has(key) : this.#index(key) !== -1;
  }

  /** Sets `key` to `value` (a new key goes last). */
  set(key: K, value: V): this {
    if (this.#map !== undefined) {
      this.#map.set(key, value);
      return this;
    }
    const i = this.#index(key);
    if (i !== -1) {
      this.#flat![i + 1] = value;
      return this;
    }
    const flat = this.#flat ??= [];
    if (flat.length < ARRAY_ENTRIES * 2) {
      flat.push(key, value);
      return this;
    }
    const map = new Map<K, V>();
    for (let j = 0; j < flat.length; j += 2) map.set(flat[j] as K, flat[j + 1] as V);
    map.set(key, value);
    this.#map = map;
    this.#flat = undefined;
    return this;
  }

  /** Removes `key`'s entry; whether there was one. */
  delete(key: K): boolean {
    if (this.#map !== undefined) return this.#map.delete(key);
    const i = this.#index(key);
    if (i === -1) return false;
    if (this.#flat!.length === 2) this.#flat = undefined;
    else this.#flat!.splice(i, 2);
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.#flat = undefined;
    this.#map = undefined;
  }

  /** The entries in insertion order (of a snapshot while they are in the array). */
  [Symbol.iterator](): Iterator<[K, V]> {
    if (this.#map !== undefined) return this.#map.entries();
    const flat = this.#flat ?? [];
    const entries: [K, V][] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push([flat[i] as K, flat[i + 1] as V]);
    return entries[Symbol.iterator]();
  }
}
