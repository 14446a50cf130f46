/**
 * A scratch npm project with the built tarball installed, for the runs of
 * the npm package under Node (scripts/test_node.ts) and Bun
 * (scripts/test_bun.ts): `npm install <tarball>` plus the adapters' peer
 * dependencies, and `tests/node/` copied in so `@alkdev/pubsub/...` resolves
 * to the installed package.
 *
 * As a script, `deno run --allow-run --allow-read --allow-write=npm,.tmp --allow-env scripts/npm_scratch.ts <dir>
 * [npm package ...]` builds the package and sets up `<dir>` with the extra npm packages, plus
 * scripts/bench/runtime_server.mjs and _raw.mjs in `<dir>/bench/` (for `deno task bench hub`).
 *
 * @module
 */

import { buildNpm } from "./build_npm.ts";

const root = new URL("..", import.meta.url);
/** The repository root, without a trailing slash. */
export const rootPath: string = decodeURIComponent(root.pathname).replace(/\/$/, "");

/** The npm packages a scratch project installs beside the tarball. */
export const SCRATCH_DEPENDENCIES: readonly string[] = [
  "ioredis@^5",
  "ws@^8",
  "@number0/iroh@1.1.0",
  "pg@^8",
  "@nats-io/transport-node@^3",
  "@types/node@^20",
];

/** Creates `dir` afresh with `tarball` and {@linkcode SCRATCH_DEPENDENCIES} installed and tests/node/ copied in. */
export async function setUpScratchProject(
  dir: string,
  tarball: string,
  name: string,
  extra: readonly string[] = [],
): Promise<void> {
  console.log(`\n=== scratch project ${dir}`);
  await Deno.remove(dir, { recursive: true }).catch(ignoreNotFound);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify({ name, private: true, type: "module" }, null, 2) + "\n",
  );
  await run("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    tarball,
    ...SCRATCH_DEPENDENCIES,
    ...extra,
  ], dir);
  await copyDir(`${rootPath}/tests/node`, `${dir}/tests/node`);
}

/** `tests/node/*.test.mjs` in a scratch project, relative to it, sorted. */
export function scratchTestFiles(dir: string): string[] {
  return [...Deno.readDirSync(`${dir}/tests/node`)]
    .filter((e) => e.isFile && e.name.endsWith(".test.mjs"))
    .map((e) => `tests/node/${e.name}`)
    .sort();
}

/** Copies a folder tree. */
export async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.isDirectory) await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** Rethrows anything but NotFound. */
export function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}

/** Runs a command to completion, printing its output (stdout unless `quiet`); throws on failure unless allowed. */
export async function run(
  cmd: string,
  args: string[],
  cwd: string,
  allowFailure = false,
  quiet = false,
): Promise<{ code: number; stdout: string }> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  if (!quiet && out.trim()) console.log(out.trimEnd());
  if (err.trim()) console.error(err.trimEnd());
  if (code !== 0 && !allowFailure) throw new Error(`${cmd} ${args.join(" ")} exited with ${code}`);
  return { code, stdout: out };
}

if (import.meta.main) {
  const [dir, ...extra] = Deno.args;
  if (dir === undefined) throw new Error("Usage: npm_scratch.ts <dir> [npm package ...]");
  const { tarball } = await buildNpm();
  await setUpScratchProject(dir, tarball, "alkdev-pubsub-scratch", extra);
  await Deno.mkdir(`${dir}/bench`, { recursive: true });
  for (const file of ["runtime_server.mjs", "_raw.mjs"]) {
    await Deno.copyFile(`${rootPath}/scripts/bench/${file}`, `${dir}/bench/${file}`);
  }
}
