#!/usr/bin/env node
// codex-tasks launcher: runs the bundled CLI (bundle.cjs) through V8's code cache, so start-up
// skips most of the parsing and compiling (start-up is most of a read-only command's time).
// The cache lives next to the bundle, or in the temp dir when that is not writable; a cache that
// V8 rejects (other Node version, other bundle) is simply rebuilt.
"use strict"
const fs = require("node:fs")
const os = require("node:os")
const path = require("node:path")
const vm = require("node:vm")
const Module = require("node:module")

const bundle = path.join(__dirname, "bundle.cjs")
const name = `bundle-${process.version}-${process.arch}.v8cache`
const candidates = [
  path.join(__dirname, ".cache", name),
  path.join(os.tmpdir(), `codex-tasks-${process.getuid ? process.getuid() : "user"}`, name),
]
let cachedData
for (const file of candidates) {
  try {
    cachedData = fs.readFileSync(file)
    break
  } catch {}
}
const source = fs.readFileSync(bundle, "utf8").replace(/^#!.*/, "")
const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData })
if (cachedData === undefined || script.cachedDataRejected) {
  // Written at exit, so the functions this run compiled are in it too.
  process.once("exit", () => {
    const data = script.createCachedData()
    for (const file of candidates) {
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
        const tmp = `${file}.${process.pid}.tmp`
        fs.writeFileSync(tmp, data, { mode: 0o600 })
        fs.renameSync(tmp, file)
        return
      } catch {}
    }
  })
}
const mod = new Module(bundle, module)
mod.filename = bundle
mod.paths = Module._nodeModulePaths(__dirname)
script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, __dirname)
