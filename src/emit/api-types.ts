/**
 * The API types every generated module declares, as data: each interface with its doc comment and its
 * members (name, type, doc, readonly, optional), and each type alias, printed into a module with the module's
 * array type where a member holds one. src/module-api.ts declares the same types by hand for bpgen's own
 * tools; test/templates.test.ts checks, with the TypeScript compiler, that the two declare the same thing.
 */

/** Where a member holds one of the module's arrays: printed as Float32Array, or Float64Array under --precision f64. */
export const MODULE_ARRAY = Symbol("the module's array type");

/** TypeScript type text, or the module's array type. */
export type ApiType = string | typeof MODULE_ARRAY;

export interface ApiMember {
  readonly name: string;
  readonly type: ApiType;
  readonly doc?: string;
  /** Whether callers may assign it: the optimizer state's counters are updated in place. */
  readonly mutable?: boolean;
  readonly optional?: boolean;
}

export type ApiDeclaration =
  | { readonly kind: "interface"; readonly name: string; readonly doc: string; readonly members: readonly ApiMember[] }
  | { readonly kind: "type"; readonly name: string; readonly doc: string; readonly type: string };

const member = (name: string, type: ApiType, doc?: string, more: Pick<ApiMember, "mutable" | "optional"> = {}): ApiMember => ({
  name,
  type,
  ...(doc !== undefined ? { doc } : {}),
  ...more,
});
const setting = (name: string, type: string, doc: string) => member(name, type, doc, { optional: true });

/** The declarations, in the order a module prints them. */
export const API_DECLARATIONS: readonly ApiDeclaration[] = [
  {
    kind: "interface",
    name: "ParamLayout",
    doc: "Where one parameter lives in the flat parameter (and gradient) vector; row-major.",
    members: [member("name", "string"), member("shape", "readonly number[]"), member("offset", "number"), member("size", "number")],
  },
  {
    kind: "interface",
    name: "RecurrenceLayout",
    doc: "Where one recurrent layer's numbers lie in a row of stateGradientNorms' output (a module of a network with recurrent layers prints it).",
    members: [
      member("name", "string", 'The layer\'s state h, named as the network names it ("h1").'),
      member("steps", "number", "Its steps T: the row holds ‖∂L/∂h_t‖ for t = 0 … T − 1."),
      member("offset", "number", "Where its T numbers start in a row."),
    ],
  },
  {
    kind: "interface",
    name: "NetMeta",
    doc: "Sizes of one sample's input, output and target rows, and the parameter layout.",
    members: [
      member("name", "string"),
      member("inputSize", "number"),
      member("outputSize", "number"),
      member("targetSize", "number"),
      member("paramCount", "number"),
      member("params", "readonly ParamLayout[]"),
    ],
  },
  {
    kind: "interface",
    name: "KernelArrays",
    doc: "Arrays for a number of samples, made by kernelArrays: parameters, gradients, and one row per sample of inputs, targets and outputs.",
    members: ["params", "grads", "inputs", "targets", "out"].map((name) => member(name, MODULE_ARRAY)),
  },
  { kind: "type", name: "OptimizerType", doc: "The optimizers createOptimizer makes.", type: '"sgd" | "momentum" | "adam" | "adamw"' },
  {
    kind: "interface",
    name: "OptimizerConfig",
    doc: "Optimizer settings. Fields left out come from optimizerDefaults (when `type` matches it), then the built-in defaults.",
    members: [
      member("type", "OptimizerType", '"sgd"; "momentum" (optionally Nesterov); "adam"; "adamw" (Adam with decoupled weight decay).'),
      setting("lr", "number", "Learning rate: default 0.01 for sgd and momentum, 0.001 for adam and adamw."),
      setting("momentum", "number", "μ for momentum: v ← μ·v + g. Default 0.9."),
      setting("nesterov", "boolean", "Nesterov momentum: p ← p − lr·(g + μ·v) instead of p ← p − lr·v. Default false."),
      setting("beta1", "number", "Adam's decay of the first moment. Default 0.9."),
      setting("beta2", "number", "Adam's decay of the second moment. Default 0.999."),
      setting("epsilon", "number", "Adam's ε, added to √v̂. Default 1e-8."),
      setting("weightDecay", "number", "AdamW only: p ← p·(1 − lr·weightDecay) before the Adam update, on every parameter. Default 0.01."),
      setting("clipNorm", "number", "Scale the gradient by min(1, clipNorm / ‖g‖) (global norm over all parameters). Default off."),
      setting("clipValue", "number", "Then clamp every gradient entry to [−clipValue, clipValue]. Default off."),
    ],
  },
  {
    kind: "interface",
    name: "OptimizerState",
    doc: "An optimizer's settings and state, sized to meta.paramCount; made by createOptimizer, advanced by trainStep.",
    members: [
      member("config", "Readonly<Required<OptimizerConfig>>", "The settings in force, all filled in (no clipping is Infinity)."),
      member("step", "number", "Steps taken (Adam's t).", { mutable: true }),
      member("m", MODULE_ARRAY, "Momentum's velocity, or Adam's first moment (empty for sgd)."),
      member("v", MODULE_ARRAY, "Adam's second moment (empty unless adam or adamw)."),
      member("grads", MODULE_ARRAY, "trainStep's gradient dJ/dparams of the last step, as computed (before clipping)."),
      member("gradNorm", "number", "‖g‖ of the last step before clipping; NaN or Infinity once training has diverged.", { mutable: true }),
      member("lastStepApplied", "boolean", "Whether the last step changed the parameters: false when its loss or gradient was not finite.", { mutable: true }),
      member("skippedSteps", "number", "Steps left out because their loss or gradient was not finite (the parameters kept their values).", { mutable: true }),
      member("network", "string", "The network this state belongs to (meta.name): trainStep refuses another network's state."),
    ],
  },
];

/**
 * A network with state (ir/net.ts StateLeaf) has more in two declarations: the state layout in NetMeta, the
 * state array in KernelArrays.
 */
const STATE_MEMBERS: Readonly<Record<string, readonly ApiMember[]>> = {
  NetMeta: [member("stateCount", "number"), member("state", "readonly ParamLayout[]")],
  KernelArrays: [member("state", MODULE_ARRAY)],
};

/** A network with recurrent layers has the layout of stateGradientNorms' rows in NetMeta. */
const RECURRENT_MEMBERS: Readonly<Record<string, readonly ApiMember[]>> = {
  NetMeta: [member("recurrences", "readonly RecurrenceLayout[]")],
};

/** A network with a recurrence that runs backwards (a bidirectional layer) says which in its recurrences' layout. */
const REVERSE_MEMBERS: Readonly<Record<string, readonly ApiMember[]>> = {
  RecurrenceLayout: [
    member("reverse", "boolean", "true for a recurrence that runs its steps from T − 1 down to 0 (a bidirectional layer's second direction): its gradient reaches back from h_0 to h_{T−1}.", { optional: true }),
  ],
};

/** `declarations` with `more` members added to the interfaces it names. */
const withMembers = (declarations: readonly ApiDeclaration[], more: Readonly<Record<string, readonly ApiMember[]>>): ApiDeclaration[] =>
  declarations.map((d) => (d.kind === "interface" && more[d.name] ? { ...d, members: [...d.members, ...(more[d.name] ?? [])] } : d));

/** The declarations of a module whose functions take a state array. */
export const STATEFUL_API_DECLARATIONS: readonly ApiDeclaration[] = withMembers(API_DECLARATIONS, STATE_MEMBERS);

/**
 * Each declaration as a module prints it, by name: its doc comment, then `export interface …` or `export type …`;
 * with the state's members for a network with state, the recurrences' for one with recurrent layers.
 */
export function apiDeclarations(array: string, stateful = false, recurrent = false, reverse = false): Map<string, string> {
  const declarations = stateful ? STATEFUL_API_DECLARATIONS : API_DECLARATIONS;
  const withRecurrences = recurrent ? withMembers(declarations, RECURRENT_MEMBERS) : declarations;
  return new Map((reverse ? withMembers(withRecurrences, REVERSE_MEMBERS) : withRecurrences).map((d) => [d.name, declarationText(d, array)]));
}

export function declarationText(d: ApiDeclaration, array: string): string {
  const doc = `/** ${d.doc} */`;
  if (d.kind === "type") return `${doc}\nexport type ${d.name} = ${d.type};`;
  return [doc, `export interface ${d.name} {`, ...d.members.flatMap((m) => memberLines(m, array)), "}"].join("\n");
}

function memberLines(m: ApiMember, array: string): string[] {
  const type = m.type === MODULE_ARRAY ? array : m.type;
  const line = `  ${m.mutable ? "" : "readonly "}${m.name}${m.optional ? "?" : ""}: ${type};`;
  return m.doc === undefined ? [line] : [`  /** ${m.doc} */`, line];
}
