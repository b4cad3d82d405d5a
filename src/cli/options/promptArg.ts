import { Effect } from "effect"
import { UsageError } from "../../domain/exit.js"

const readStdin = Effect.async<string>((resume) => {
  const chunks: Array<Buffer> = []
  process.stdin.on("data", (c: Buffer) => chunks.push(c))
  process.stdin.once("end", () => resume(Effect.succeed(Buffer.concat(chunks).toString("utf8"))))
  process.stdin.once("error", () => resume(Effect.succeed(Buffer.concat(chunks).toString("utf8"))))
})

/** The prompt argument, or all of stdin when it is `-`; an empty prompt is a usage error. */
export const promptFrom = (arg: string) =>
  Effect.gen(function* () {
    if (arg === "-" && process.stdin.isTTY) {
      return yield* new UsageError({ message: "PROMPT is '-' but stdin is a terminal." })
    }
    const prompt = arg === "-" ? yield* readStdin : arg
    if (prompt.trim().length === 0)
      return yield* new UsageError({ message: "The prompt is empty." })
    return prompt
  })
