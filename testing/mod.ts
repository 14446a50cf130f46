/**
 * The adapter conformance kit: the contract every transport in this package
 * passes, as a test suite anyone can run over their own adapter, under
 * `Deno.test` or `node:test`. No test framework is a dependency; assertions
 * use `node:assert/strict`.
 *
 * Give {@linkcode conformance} a factory for a fresh pair of connected event
 * targets (and a cleanup); declare what the transport cannot do with the
 * capability options, and each skip is printed. How to write and test a
 * third-party adapter is in `docs/architecture/testing.md`.
 *
 * @example A custom adapter's conformance test (here: the in-process target)
 * ```ts
 * import { createInProcessEventTarget } from "@alkdev/pubsub/in-process";
 * import { conformance } from "@alkdev/pubsub/testing";
 *
 * conformance("my adapter", () => {
 *   const target = createInProcessEventTarget({ onListenerError: () => {} });
 *   return { a: target, b: target, close: () => {} };
 * });
 * ```
 *
 * @module
 */

export { conformance, type ConformanceOptions, type ConformancePair, type MissingCapability } from "./conformance.ts";
export { nextWithin } from "./next_within.ts";
export { detectTestRegistrar, type TestRegistrar } from "./runner.ts";
