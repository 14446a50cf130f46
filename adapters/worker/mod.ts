/**
 * The worker adapter (work in progress).
 *
 * @module
 */

/**
 * Placeholder until the adapter lands.
 *
 * @example
 * ```ts
 * import { ADAPTER_STATUS } from "@alkdev/pubsub/worker";
 * console.log(ADAPTER_STATUS);
 * ```
 */
export const ADAPTER_STATUS: string = "in progress";
