/**
 * Stream operators for subscriptions and any other (async) iterable. Each is
 * curried, `op(args)(source)`, and composes with {@linkcode pipe}.
 *
 * @module
 */

export type * from "./types.ts";
export { PubSubError } from "../core/errors.ts";
export * from "./filter.ts";
export * from "./map.ts";
export * from "./pipe.ts";
export * from "./take.ts";
export * from "./reduce.ts";
export * from "./to_array.ts";
export * from "./batch.ts";
export * from "./dedupe.ts";
export * from "./window.ts";
export * from "./flat.ts";
export * from "./group_by.ts";
export * from "./chain.ts";
export * from "./join.ts";
