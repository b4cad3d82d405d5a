import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { build } from "esbuild"

/**
 * Bundles the full-tree reference CLI (test/support/fullTreeEntry.ts) from the sources: not
 * minified and with names kept, so it behaves as the unbundled build does, but it starts in a
 * quarter of the time (the reference runs once per case of the comparison tests). Returns its
 * path and a function that removes it.
 */
export const buildFullTree = async () => {
  const dir = mkdtempSync(join(tmpdir(), "ct-full-tree-"))
  const outfile = join(dir, "full-tree.cjs")
  await build({
    entryPoints: [new URL("./fullTreeEntry.ts", import.meta.url).pathname],
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    minify: false,
    keepNames: true,
    logLevel: "warning",
    outfile,
  })
  return { script: outfile, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
