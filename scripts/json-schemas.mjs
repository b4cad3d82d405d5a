#!/usr/bin/env node
// Writes the generated files of docs/json-schema/ from the wire Schemas (src/domain/wire.ts),
// through the built library: `npm run build && npm run json-schemas`. test/docs/jsonSchemas.test.ts
// fails when a checked-in file differs from what this writes.
import { spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { documentedSchemas } from "../dist/domain/wireSchemas.js"

const dir = new URL("../docs/json-schema/", import.meta.url)
const written = []
for (const [name, schema] of Object.entries(documentedSchemas())) {
  const file = new URL(`${name}.schema.json`, dir)
  writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`)
  written.push(file.pathname)
}
spawnSync("npx", ["biome", "format", "--write", ...written], { stdio: "ignore" })
process.stdout.write(`${written.join("\n")}\n`)
