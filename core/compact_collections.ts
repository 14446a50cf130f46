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

/** `CompactSet`'s single member slot when it holds none. */
const NONE: unique symbol = Symbol("none");

/** A set that holds a single member without a `Set`, in two fields (a subclass's objects stay small). */
export class CompactSet<T> implements Iterable<T> {
  /** The member while there is exactly one and no `Set`; `NONE` otherwise. */
  #one: T | typeof NONE = NONE;
  /** Once a second member comes; kept until the set is empty. */
  #many: Set<T> | undefined;

  /** The number of members. */
  get size(): number {
    return this.#many !== undefined ? this.#many.size : this.#one !== NONE ? 1 : 0;
  }

  /** Whether `value` is a member. */
  has(value: T): boolean {
    return this.#many !== undefined ? this.#many.has(value) : this.#one !== NONE && this.#one === value;
  }

  /** Adds `value`. */
  add(value: T): this {
    if (this.#many !== undefined) this.#many.add(value);
    else if (this.#one === NONE) this.#one = value;
    else if (this.#one !== value) {
      this.#many = new Set([this.#one, value]);
      this.#one = NONE;
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
    if (this.#one === NONE || this.#one !== value) return false;
    this.#one = NONE;
    return true;
  }

  /**
   * The members in insertion order. As with a `Set`, a member deleted while
   * iterating is not visited if not visited yet; one added while iterating a
   * single member is not visited.
   */
  [Symbol.iterator](): Iterator<T> {
    if (this.#many !== undefined) return this.#many.values();
    return (this.#one !== NONE ? [this.#one] : [])[Symbol.iterator]();
  }
}

/** At most this many entries are kept in a flat array; one more moves them into a `Map`. */
const ARRAY_ENTRIES = 8;

/**
 * A map that keeps up to 8 entries in one flat array (`[key, value, key,
 * value, …]`, looked up by `===`), and moves them into a `Map` past that.
 */
export class CompactMap<K, V> implements Iterable<[K, V]> {
  /** The flat array, or the `Map` past 8 entries (one field: a subclass's objects stay small). */
  #store: unknown[] | Map<K, V> | undefined;

  /** The number of entries. */
  get size(): number {
    const store = this.#store;
    return store === undefined ? 0 : store instanceof Map ? store.size : store.length >> 1;
  }

  /** The index of `key` in the flat array, or -1. */
  #index(flat: unknown[], key: K): number {
    for (let i = 0; i < flat.length; i += 2) if (flat[i] === key) return i;
    return -1;
  }

  /** The value for `key`, or `undefined`. */
  get(key: K): V | undefined {
    const store = this.#store;
    if (store === undefined) return undefined;
    if (store instanceof Map) return store.get(key);
    const i = this.#index(store, key);
    return i === -1 ? undefined : store[i + 1] as V;
  }

  /** Whether `key` has an entry. */
  has(key: K): boolean {
    const store = this.#store;
    if (store === undefined) return false;
    return store instanceof Map ? store.has(key) : this.#index(store, key) !== -1;
  }

  /** Sets `key` to `value` (a new key goes last). */
  set(key: K, value: V): this {
    const store = this.#store;
    if (store instanceof Map) {
      store.set(key, value);
      return this;
    }
    if (store === undefined) {
      this.#store = [key, value];
      return this;
    }
    const i = this.#index(store, key);
    if (i !== -1) store[i + 1] = value;
    else if (store.length < ARRAY_ENTRIES * 2) store.push(key, value);
    else {
      const map = new Map<K, V>();
      for (let j = 0; j < store.length; j += 2) map.set(store[j] as K, store[j + 1] as V);
      map.set(key, value);
      this.#store = map;
    }
    return this;
  }

  /** Removes `key`'s entry; whether there was one. */
  delete(key: K): boolean {
    const store = this.#store;
    if (store === undefined) return false;
    if (store instanceof Map) return store.delete(key);
    const i = this.#index(store, key);
    if (i === -1) return false;
    if (store.length === 2) this.#store = undefined;
    else store.splice(i, 2);
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.#store = undefined;
  }

  /** The entries in insertion order (of a snapshot while they are in the array). */
  [Symbol.iterator](): Iterator<[K, V]> {
    const store = this.#store;
    if (store instanceof Map) return store.entries();
    const entries: [K, V][] = [];
    if (store !== undefined) {
      for (let i = 0; i < store.length; i += 2) entries.push([store[i] as K, store[i + 1] as V]);
    }
    return entries[Symbol.iterator]();
  }
}
