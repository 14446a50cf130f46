/**
 * The test registrar the conformance kit registers its cases with: `Deno.test`
 * or `node:test`'s `test`, passed in or found.
 *
 * @module
 */

/**
 * What the kit needs of a test framework: register a named async test, which
 * may be skipped. `Deno.test` and `node:test`'s `test` both fit as they are
 * (each reads the option it knows: `ignore` for Deno, `skip` for Node).
 *
 * @example
 * ```ts
 * import type { TestRegistrar } from "@alkdev/pubsub/testing";
 *
 * const registrar: TestRegistrar = Deno.test;
 * ```
 */
export type TestRegistrar = (
  name: string,
  options: { ignore?: boolean; skip?: boolean | string },
  fn: () => Promise<void>,
) => unknown;

/**
 * Finds the running test framework's registrar: `Deno.test` under Deno,
 * `node:test`'s `test` under Node (through `process.getBuiltinModule`,
 * Node 20.16 and later).
 *
 * @returns The registrar.
 * @throws {TypeError} If neither is found: pass `test` in the options instead.
 *
 * @example
 * ```ts
 * import { detectTestRegistrar } from "@alkdev/pubsub/testing";
 *
 * const test = detectTestRegistrar();
 * console.log(typeof test); // "function"
 * ```
 */
export function detectTestRegistrar(): TestRegistrar {
  const global = globalThis as {
    Deno?: { test?: unknown };
    process?: { getBuiltinModule?: (id: string) => { test?: unknown } | undefined };
  };
  if (typeof global.Deno?.test === "function") return global.Deno.test as TestRegistrar;
  const nodeTest = global.process?.getBuiltinModule?.("node:test")?.test;
  if (typeof nodeTest === "function") return nodeTest as TestRegistrar;
  throw new TypeError(
    "Cannot register the conformance suite: no Deno.test or node:test found; pass { test } from your test framework",
  );
}
