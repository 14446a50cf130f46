/**
 * `deno task check`: fmt, lint, type check, doc lint of every export, and a
 * publish dry run. Exits non-zero on the first failure.
 */

const root = new URL("..", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const exports = Object.values(config.exports as Record<string, string>);

const steps: [string, string[]][] = [
  ["fmt", ["fmt", "--check"]],
  ["lint", ["lint"]],
  ["type check (exports, tests, scripts)", ["check", ...exports, "tests/", "scripts/"]],
  ["type check of JSDoc examples", ["check", "--doc", ...exports, "core/", "operators/", "adapters/"]],
  ["doc lint", ["doc", "--lint", ...exports]],
  ["publish dry run", ["publish", "--dry-run", "--allow-dirty"]],
];

for (const [name, args] of steps) {
  console.log(`\n=== ${name}: deno ${args.join(" ")}`);
  const { code } = await new Deno.Command(Deno.execPath(), { args, cwd: root, stdout: "inherit", stderr: "inherit" })
    .output();
  if (code !== 0) {
    console.error(`check failed at: ${name}`);
    Deno.exit(code);
  }
}
console.log("\nAll checks passed.");
