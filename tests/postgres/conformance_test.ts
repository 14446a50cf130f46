import { conformance } from "../../testing/mod.ts";
import { pgPair, uniquePrefix } from "./_helpers.ts";

conformance("postgres", () => pgPair(uniquePrefix("conformance")));
