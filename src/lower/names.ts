/**
 * Deterministic identifiers for the emitted module. User names are validated identifiers already; here they
 * are kept clear of reserved words, of the module's own names and of each other (`name$1` on a clash).
 */
import type { Graph } from "../ir/graph.ts";
import type { Node } from "../ir/node.ts";
import type { Buffer, Local } from "./kernel.ts";

const RESERVED_WORDS = `break case catch class const continue debugger default delete do else enum export extends false
finally for function if import in instanceof new null return super switch this throw true try typeof var void while with
yield let static implements interface package private protected public await as async of get set type declare namespace
module arguments eval undefined NaN Infinity globalThis Math Object Array Number String Error RangeError Float32Array
Float64Array Uint32Array constructor prototype __proto__ toString valueOf hasOwnProperty`.split(/\s+/);

/**
 * Names a module must not declare at its top level although they are not reserved words: the parameters of
 * the CommonJS wrapper (a top-level `const exports` breaks the module once compiled to CommonJS) and globals
 * a reader, a bundler or a template may rely on.
 */
const HOST_NAMES = `exports require module __filename __dirname Function Symbol JSON Reflect Proxy Promise BigInt Boolean
TypeError Int32Array Uint8Array isFinite isNaN parseFloat parseInt process console window self global`.split(/\s+/);

/** Names the generated code itself uses: API, parameters of the functions, loop and row variables. */
export const INTERNAL_NAMES = `meta initParams forward loss gradient sgdStep params inputs targets grads out lr batch seed
s i j k xRow yRow outRow invB sgdGrads state NetMeta ParamLayout capacity reserveBatch
createOptimizer applyGradients trainStep optimizerDefaults OptimizerType OptimizerConfig OptimizerState updateParams optHyper`.split(/\s+/);

export class Namer {
  private readonly taken = new Set<string>([...RESERVED_WORDS, ...HOST_NAMES, ...INTERNAL_NAMES]);
  /**
   * Per base, the first suffix not yet tried: names are never released, so the lower ones stay taken, and
   * claiming a base k times costs k tries, not k²/2 (an accumulator `acc` is claimed once per long sum).
   */
  private readonly nextSuffix = new Map<string, number>();

  reserve(names: Iterable<string>): void {
    for (const n of names) this.taken.add(n);
  }

  /** `base` if free, else `base$1`, `base$2`, … */
  claim(base: string): string {
    const clean = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(base) ? base : "t";
    let name = clean;
    let k = this.nextSuffix.get(clean) ?? 1;
    for (; this.taken.has(name); k++) name = `${clean}$${k}`;
    this.nextSuffix.set(clean, k);
    this.taken.add(name);
    return name;
  }
}

/** One name per node for the whole module, so a value is called the same in every function and comment. */
export class NodeNames {
  private readonly names = new Map<Node, string>();
  private counter = 0;

  constructor(
    private readonly graph: Graph,
    readonly namer: Namer,
  ) {}

  of(node: Node): string {
    let name = this.names.get(node);
    if (!name) {
      name = this.namer.claim(this.graph.hint(node) ?? `t${++this.counter}`);
      this.names.set(node, name);
    }
    return name;
  }
}

/**
 * Names of the kernel IR's buffers and locals as the renderers print them: the caller's arrays by role,
 * values by their node's name, temporaries after their hint (claimed on first use; lower/name-order.ts claims
 * them all, in a defined order, before any backend prints).
 */
export class IrNames {
  private readonly temps = new Map<Local, string>();

  constructor(readonly nodes: NodeNames) {}

  buffer(b: Buffer): string {
    if (b.role !== "work") return b.role;
    if (!b.node) {
      if (b.hint !== undefined) return b.hint;
      throw new Error("internal: a workspace buffer without its value");
    }
    return this.nodes.of(b.node);
  }

  local(l: Local): string {
    if (l.node) return this.nodes.of(l.node);
    if (l.fixed) return l.hint;
    let name = this.temps.get(l);
    if (!name) {
      name = this.nodes.namer.claim(l.hint);
      this.temps.set(l, name);
    }
    return name;
  }

  note(lhs: Node | string): string {
    return typeof lhs === "string" ? lhs : this.nodes.of(lhs);
  }
}
