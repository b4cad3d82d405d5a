import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { PAGE_FILES } from "../../src/generated/servePage.js"

// The page ships inside the code (src/generated/servePage.ts, by scripts/serve-page.mjs): it
// must be the page in src/serve/page/, or a page edit would never reach users.
const DIR = new URL("../../src/serve/page/", import.meta.url).pathname

describe("the served page", () => {
  it("is the current src/serve/page/ (run node scripts/serve-page.mjs after editing it)", () => {
    const names = readdirSync(DIR).sort()
    expect(Object.keys(PAGE_FILES).sort()).toEqual(names)
    for (const name of names) {
      expect(`${name}: ${PAGE_FILES[name]?.body === readFileSync(join(DIR, name), "utf8")}`).toBe(
        `${name}: true`,
      )
    }
  })

  it("names what tests and screen readers rely on", () => {
    const html = PAGE_FILES["index.html"]?.body ?? ""
    expect(html).toContain('<table aria-label="Tasks">')
    expect(html).toContain('<label for="prompt">Prompt</label>')
    expect(html).toContain('aria-label="Transcript"')
    for (const button of ["Send", "Stop", "Archive", "Apply"])
      expect(html).toContain(`>${button}</button>`)
  })
})
