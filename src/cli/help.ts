import { CliConfig, CommandDescriptor, type Usage } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { renderHelp } from "../render/help.js"
import { helpModel } from "../render/helpModel.js"

/** A command tree (what `Command.withSubcommands` built): only its descriptor is read. */
type Tree = { readonly descriptor: CommandDescriptor.Command<unknown> }

const PROGRAM = "codex-tasks"

const firstName = (u: Usage.Usage): string | undefined => {
  switch (u._tag) {
    case "Named":
      return u.names[0]
    case "Concat":
    case "Alternation":
      return firstName(u.left) ?? firstName(u.right)
    case "Optional":
    case "Repeated":
      return firstName(u.usage)
    default:
      return undefined
  }
}

const noSubcommand = (value: unknown) =>
  typeof value === "object" &&
  value !== null &&
  "subcommand" in value &&
  Option.isOption(value.subcommand) &&
  Option.isNone(value.subcommand)

/**
 * Which command's help `args` (`process.argv.slice(2)`) asks for, decided by @effect/cli's own
 * parser: `--help`/`-h` (the command it applies to), or the root without a subcommand. None for
 * anything else, parse errors included (the normal run reports them).
 */
export const helpTarget = (tree: Tree, args: ReadonlyArray<string>) =>
  CommandDescriptor.parse(tree.descriptor, [PROGRAM, ...args], CliConfig.defaultConfig).pipe(
    Effect.map((directive): Option.Option<string> => {
      if (directive._tag === "BuiltIn") {
        return directive.option._tag === "ShowHelp"
          ? Option.fromNullable(firstName(directive.option.usage))
          : Option.none()
      }
      return directive.leftover.length === 0 && noSubcommand(directive.value)
        ? Option.some(PROGRAM)
        : Option.none()
    }),
    Effect.orElseSucceed(() => Option.none<string>()),
  )

/** The help text of the command named `name` in `tree` (the root: `codex-tasks`). */
export const helpText = (tree: Tree, name: string): string | undefined => {
  const root = helpModel(tree)
  if (root === undefined) return undefined
  if (name === PROGRAM || name === root.name) return renderHelp(root, root, PROGRAM)
  const sub = root.subcommands.find((c) => c.name === name)
  return sub === undefined ? undefined : renderHelp(root, sub, `${PROGRAM} ${sub.name}`)
}

/** Prints the help `args` asks for and succeeds with true, or does nothing and succeeds with false. */
export const printHelpIfAsked = (tree: Tree, args: ReadonlyArray<string>) =>
  Effect.flatMap(helpTarget(tree, args), (target) => {
    const text = Option.isSome(target) ? helpText(tree, target.value) : undefined
    return text === undefined ? Effect.succeed(false) : Effect.as(Console.log(text), true)
  })
