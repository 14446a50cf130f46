/** zod and valibot schemas over Redis: events from another connection's target are validated before subscribers. */
import { schemaRoundTrip } from "../_schemas.ts";
import { targetWithClients, uniquePrefix } from "./_helpers.ts";

Deno.test("redis schemas: zod and valibot validate what arrives, subscribers get the output", async () => {
  const prefix = uniquePrefix("schemas");
  const [a, b] = await Promise.all([targetWithClients({ prefix }), targetWithClients({ prefix })]);
  try {
    await schemaRoundTrip(a.target, b.target);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
