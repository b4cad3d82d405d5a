import type { CommandDescriptor, HelpDoc } from "@effect/cli"
import type * as Span from "@effect/cli/HelpDoc/Span"
import { Option } from "effect"

// What `--help` shows, read off @effect/cli's own data: a command's descriptor holds its options
// and arguments as small tagged trees (`Single`, `WithDefault`, `Variadic`, `Map`, `Both`, …), each
// `Single` with its names, value type and the description given by `withDescription`. Those
// node types are internal to @effect/cli (pinned here); an unknown node contributes nothing.

/** One option as help lists it. */
export interface HelpOption {
  readonly long: string
  readonly short: ReadonlyArray<string>
  /** What the value is (from its type); undefined for a flag. */
  readonly value: "text" | "integer" | "number" | "directory" | "file" | "path" | "date" | undefined
  readonly pseudoName: string | undefined
  readonly choices: ReadonlyArray<string>
  readonly defaultValue: string | undefined
  readonly repeated: boolean
  readonly required: boolean
  readonly description: string
}

/** One positional argument as help lists it. */
export interface HelpArg {
  readonly name: string
  readonly optional: boolean
  readonly repeated: boolean
  readonly description: string
}

/** A command as help shows it: its description paragraphs, arguments, options, subcommands. */
export interface HelpCommand {
  readonly name: string
  readonly paragraphs: ReadonlyArray<string>
  readonly args: ReadonlyArray<HelpArg>
  readonly options: ReadonlyArray<HelpOption>
  readonly subcommands: ReadonlyArray<HelpCommand>
}

type Node = { readonly _tag: string; readonly [key: string]: unknown }

const spanText = (s: Span.Span): string => {
  switch (s._tag) {
    case "Sequence":
      return spanText(s.left) + spanText(s.right)
    case "Text":
    case "URI":
      return s.value
    default:
      return spanText(s.value)
  }
}

/** The paragraphs of a help document as plain text (headers and lists flattened). */
export const docParagraphs = (doc: HelpDoc.HelpDoc): Array<string> => {
  switch (doc._tag) {
    case "Empty":
      return []
    case "Header":
    case "Paragraph":
      // `withDescription("a\n\nb")` is one paragraph: blank lines separate paragraphs too
      return spanText(doc.value)
        .split(/\n[ \t]*\n/)
        .filter((p) => p.trim() !== "")
    case "Sequence":
      return [...docParagraphs(doc.left), ...docParagraphs(doc.right)]
    case "Enumeration":
      return doc.elements.flatMap(docParagraphs)
    case "DescriptionList":
      return doc.definitions.flatMap(([span, d]) => [spanText(span), ...docParagraphs(d)])
  }
}

const valueKind = (primitive: Node): HelpOption["value"] => {
  switch (primitive._tag) {
    case "Bool":
      return undefined
    case "Integer":
      return "integer"
    case "Float":
      return "number"
    case "DateTime":
      return "date"
    case "Path":
      return primitive.pathType === "directory"
        ? "directory"
        : primitive.pathType === "file"
          ? "file"
          : "path"
    default:
      return "text"
  }
}

const choicesOf = (primitive: Node): Array<string> =>
  primitive._tag === "Choice"
    ? (primitive.alternatives as ReadonlyArray<readonly [string, unknown]>).map(([name]) => name)
    : []

const dash = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`)

const shown = (fallback: unknown): string | undefined => {
  if (Option.isOption(fallback)) {
    return Option.isSome(fallback) ? shown(fallback.value) : undefined
  }
  if (typeof fallback === "boolean" || fallback === undefined || fallback === null) return undefined
  if (Array.isArray(fallback)) return fallback.length === 0 ? undefined : fallback.join(",")
  return String(fallback)
}

type Mods = { readonly defaultValue?: string | undefined; readonly optional?: boolean }

const optionsOf = (node: Node, mods: Mods = {}): Array<HelpOption> => {
  switch (node._tag) {
    case "Single": {
      const primitive = node.primitiveType as Node
      const value = valueKind(primitive)
      const pseudo = node.pseudoName as Option.Option<string>
      return [
        {
          long: dash(node.name as string),
          short: (node.aliases as ReadonlyArray<string>).map(dash),
          value,
          pseudoName: Option.getOrUndefined(pseudo),
          choices: choicesOf(primitive),
          defaultValue: mods.defaultValue,
          repeated: false,
          required: value !== undefined && mods.optional !== true,
          description: docParagraphs(node.description as HelpDoc.HelpDoc).join(" "),
        },
      ]
    }
    case "Map":
      return optionsOf(node.options as Node, mods)
    case "Both":
    case "OrElse":
      return [...optionsOf(node.left as Node, mods), ...optionsOf(node.right as Node, mods)]
    case "WithDefault":
      return optionsOf(node.options as Node, { defaultValue: shown(node.fallback), optional: true })
    case "WithFallback":
      return optionsOf(node.options as Node, { ...mods, optional: true })
    case "Variadic":
    case "KeyValueMap": {
      const min = Option.isOption(node.min)
        ? Option.getOrElse(node.min as Option.Option<number>, () => 0)
        : 0
      return optionsOf(node.argumentOption as Node, mods).map((o) => ({
        ...o,
        repeated: true,
        required: min > 0,
      }))
    }
    default:
      return []
  }
}

const argsOf = (node: Node, optional = false): Array<HelpArg> => {
  switch (node._tag) {
    case "Single":
      return [
        {
          name: (node.name as string).replace(/^<(.*)>$/, "$1"),
          optional,
          repeated: false,
          description: docParagraphs(node.description as HelpDoc.HelpDoc).join(" "),
        },
      ]
    case "Map":
      return argsOf(node.args as Node, optional)
    case "Both":
      return [...argsOf(node.left as Node, optional), ...argsOf(node.right as Node, optional)]
    case "WithDefault":
    case "WithFallbackConfig":
      return argsOf(node.args as Node, true)
    case "Variadic": {
      const min = Option.isOption(node.min)
        ? Option.getOrElse(node.min as Option.Option<number>, () => 0)
        : 0
      return argsOf(node.args as Node, optional || min === 0).map((a) => ({ ...a, repeated: true }))
    }
    default:
      return []
  }
}

const fromDescriptor = (node: Node): HelpCommand | undefined => {
  switch (node._tag) {
    case "Standard":
      return {
        name: node.name as string,
        paragraphs: docParagraphs(node.description as HelpDoc.HelpDoc),
        args: argsOf(node.args as Node),
        options: optionsOf(node.options as Node),
        subcommands: [],
      }
    case "Map":
      return fromDescriptor(node.command as Node)
    case "Subcommands": {
      const parent = fromDescriptor(node.parent as Node)
      const children = (node.children as ReadonlyArray<Node>).flatMap((c) => {
        const child = fromDescriptor(c)
        return child === undefined ? [] : [child]
      })
      return parent === undefined ? undefined : { ...parent, subcommands: children }
    }
    default:
      return undefined
  }
}

/** The help model of a command (with its subcommands), from its @effect/cli descriptor. */
export const helpModel = (command: { readonly descriptor: CommandDescriptor.Command<unknown> }) =>
  fromDescriptor(command.descriptor as unknown as Node)
