import { conformance } from "../../testing/mod.ts";
import { natsPair, uniquePrefix } from "./_helpers.ts";

conformance("nats", () => natsPair(uniquePrefix("conformance")));
