/**
 * Builds a WebAssembly module in memory and serialises it to bytes (`toBytes`), with no toolchain:
 * types (deduplicated), function imports, one memory (imported or defined), globals, functions,
 * exports, active data segments and a `name` section (module, function, local and global names, so
 * that disassemblers such as wabt print readable text). The same sequence of calls always gives the
 * same bytes.
 *
 *   const mod = new ModuleBuilder("kernels");
 *   mod.defineMemory({ min: 1 }, "memory");
 *   const add = mod.function("add", { params: { a: "f32", b: "f32" }, results: ["f32"] }, (f, { a, b }) => {
 *     f.localGet(a).localGet(b).f32Add();
 *   });
 *   mod.exportFunction("add", add);
 *   const instance = new WebAssembly.Instance(new WebAssembly.Module(mod.toBytes()));
 */
import { ByteWriter } from "./bytes.ts";
import { FunctionBuilder, type ModuleContext, WasmBuildError } from "./function-builder.ts";
import {
  type FuncRef,
  type FuncType,
  type Global,
  type Local,
  type MemoryLimits,
  type ValType,
  VALTYPE_CODE,
  funcTypeText,
  sameTypes,
} from "./types.ts";

export { FunctionBuilder, Label, WasmBuildError } from "./function-builder.ts";
export type { BlockType, FuncRef, FuncType, Global, Local, MemArg, MemoryLimits, ValType } from "./types.ts";

/** Parameters by name (in declaration order) and result types. */
export interface FunctionSignature<P extends Record<string, ValType>> {
  readonly params?: P;
  readonly results?: readonly ValType[];
}

/** The body callback of a function: the builder, and its parameters by name. */
export type FunctionBody<P extends Record<string, ValType>> = (f: FunctionBuilder, params: { readonly [K in keyof P]: Local }) => void;

const MAX_PAGES = 65536;
const SECTION = { custom: 0, type: 1, import: 2, function: 3, memory: 5, global: 6, export: 7, code: 10, data: 11 } as const;
const EXTERNAL_KIND = { function: 0x00, memory: 0x02, global: 0x03 } as const;
const NAME_SUBSECTION = { module: 0, function: 1, local: 2, global: 7 } as const;

interface ImportedFunction {
  ref: FuncRef;
  module: string;
  field: string;
}

interface DefinedFunction {
  ref: FuncRef;
  builder: FunctionBuilder;
  body?: ByteWriter;
}

/**
 * Memory limits, and whether several threads share the memory (a `WebAssembly.Memory({ shared: true })`,
 * whose buffer is a SharedArrayBuffer): the threads proposal's shared memory, which requires a max.
 */
export interface MemoryType extends MemoryLimits {
  readonly shared?: boolean;
}

interface MemoryDecl {
  limits: MemoryType;
  import?: { module: string; field: string };
}

interface GlobalDecl {
  global: Global;
  init: number | bigint;
}

interface ExportDecl {
  name: string;
  kind: keyof typeof EXTERNAL_KIND;
  index: () => number;
}

export class ModuleBuilder implements ModuleContext {
  private readonly types: FuncType[] = [];
  private readonly imports: ImportedFunction[] = [];
  private readonly functions: DefinedFunction[] = [];
  private readonly functionNames = new Set<string>();
  private readonly funcIndexOf = new Map<FuncRef, () => number>();
  private readonly globals: GlobalDecl[] = [];
  private readonly exports: ExportDecl[] = [];
  private readonly data: { offset: number; bytes: Uint8Array }[] = [];
  private memory?: MemoryDecl;
  private memoryUser?: string;

  /** `name` becomes the module name in the name section (optional). */
  constructor(readonly name?: string) {}

  // ---- functions -------------------------------------------------------------------------------

  /**
   * Imports a function. `params` maps names (shown in the name section's function name only) to
   * types; imports may be added at any time, function indices are resolved when serialising.
   */
  importFunction<P extends Record<string, ValType>>(module: string, field: string, sig: FunctionSignature<P> & { readonly name?: string }): FuncRef {
    const name = this.claimFunctionName(sig.name ?? `${module}.${field}`);
    const ref = this.newFuncRef(name, this.signatureOf(sig));
    const entry: ImportedFunction = { ref, module, field };
    this.imports.push(entry);
    this.funcIndexOf.set(ref, () => this.imports.indexOf(entry));
    return ref;
  }

  /**
   * Adds a function. With `body`, the body is written now; without, the function is only declared
   * (so that others can call it, e.g. mutual recursion) and `defineFunction` must write it before
   * `toBytes`. Parameter names come from the keys of `params`, in order.
   */
  function<P extends Record<string, ValType>>(name: string, sig: FunctionSignature<P>, body?: FunctionBody<P>): FuncRef {
    const claimed = this.claimFunctionName(name);
    const paramNames = Object.keys(sig.params ?? {});
    for (const p of paramNames) {
      // Integer-like keys would be reordered by JavaScript, silently permuting the parameters.
      if (/^(0|[1-9]\d*)$/.test(p)) throw new WasmBuildError(`function "${name}": parameter name "${p}" looks like an array index; use a name`);
    }
    const ref = this.newFuncRef(claimed, this.signatureOf(sig));
    const builder = new FunctionBuilder(this, claimed, ref.type, paramNames);
    const entry: DefinedFunction = { ref, builder };
    this.functions.push(entry);
    this.funcIndexOf.set(ref, () => this.imports.length + this.functions.indexOf(entry));
    if (body) this.defineFunction(ref, body);
    return ref;
  }

  /** Writes the body of a function declared by `function(name, sig)` without a body. */
  defineFunction<P extends Record<string, ValType>>(ref: FuncRef, body: FunctionBody<P>): void {
    const entry = this.functions.find((f) => f.ref === ref);
    if (!entry) throw new WasmBuildError(`defineFunction: "${ref.name}" is not a function defined in this module`);
    if (entry.body || entry.builder.isFinished) throw new WasmBuildError(`defineFunction: "${ref.name}" already has a body`);
    const byName = Object.fromEntries(entry.builder.params.map((p) => [p.name, p])) as { [K in keyof P]: Local };
    body(entry.builder, byName);
    entry.body = entry.builder.finish();
  }

  /** Whether a function of this name exists (e.g. to avoid adding a helper twice). */
  hasFunction(name: string): boolean {
    return this.functionNames.has(name);
  }

  // ---- memory, globals, data -------------------------------------------------------------------

  /** Defines the module's memory; exported under `exportName` if given. */
  defineMemory(limits: MemoryType, exportName?: string): void {
    this.setMemory({ limits: this.checkLimits(limits) });
    if (exportName !== undefined) this.exportMemory(exportName);
  }

  /**
   * Imports the module's memory (e.g. one `WebAssembly.Memory` shared by several modules). With
   * `shared: true` (and a max), several threads' instances of the module share it:
   * `(import "env" "memory" (memory min max shared))`.
   */
  importMemory(module: string, field: string, limits: MemoryType): void {
    this.setMemory({ limits: this.checkLimits(limits), import: { module, field } });
  }

  /** Exports the memory (defined or imported) as `name`. */
  exportMemory(name: string): void {
    if (!this.memory) throw new WasmBuildError(`exportMemory("${name}"): the module has no memory yet`);
    this.addExport({ name, kind: "memory", index: () => 0 });
  }

  /** Adds a global of a numeric type with a constant initial value. */
  global(name: string, type: Exclude<ValType, "v128">, init: number | bigint, options: { mutable?: boolean } = {}): Global {
    if (this.globals.some((g) => g.global.name === name)) throw new WasmBuildError(`global "${name}" already exists`);
    if ((type === "i64") !== (typeof init === "bigint")) {
      throw new WasmBuildError(`global "${name}": an ${type} global needs a ${type === "i64" ? "bigint" : "number"} initial value`);
    }
    const global: Global = { kind: "global", index: this.globals.length, type, mutable: options.mutable ?? false, name, owner: this };
    this.globals.push({ global, init });
    return global;
  }

  /** An active data segment: `bytes` copied to memory at `offset` when the module is instantiated. */
  dataSegment(offset: number, bytes: Uint8Array): void {
    if (!Number.isInteger(offset) || offset < 0 || offset >= 2 ** 32) throw new WasmBuildError(`dataSegment: offset ${offset} is not a u32`);
    this.data.push({ offset, bytes: bytes.slice() });
    this.memoryUser ??= "a data segment";
  }

  // ---- exports ---------------------------------------------------------------------------------

  exportFunction(name: string, ref: FuncRef): void {
    const index = this.funcIndexOf.get(ref);
    if (!index) throw new WasmBuildError(`exportFunction("${name}"): "${ref.name}" is not a function of this module`);
    this.addExport({ name, kind: "function", index });
  }

  exportGlobal(name: string, global: Global): void {
    if (!this.ownsGlobal(global)) throw new WasmBuildError(`exportGlobal("${name}"): "${global.name}" is not a global of this module`);
    this.addExport({ name, kind: "global", index: () => global.index });
  }

  // ---- serialisation ---------------------------------------------------------------------------

  /** The module's binary. Throws if a declared function has no body or memory is used but missing. */
  toBytes(): Uint8Array<ArrayBuffer> {
    this.checkComplete();
    const out = new ByteWriter();
    out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]); // "\0asm", version 1
    // Type indices are handed out while bodies are written, so function types are claimed first.
    const funcTypeIndices = this.functions.map((f) => this.typeIndex(f.ref.type));
    const importTypeIndices = this.imports.map((i) => this.typeIndex(i.ref.type));
    this.section(out, SECTION.type, this.types.length > 0, (w) =>
      w.vector(this.types, (t, v) => {
        v.byte(0x60);
        v.vector(t.params, (p, x) => x.byte(VALTYPE_CODE[p]));
        v.vector(t.results, (r, x) => x.byte(VALTYPE_CODE[r]));
      }),
    );
    this.section(out, SECTION.import, this.imports.length > 0 || this.memory?.import !== undefined, (w) => this.writeImports(w, importTypeIndices));
    this.section(out, SECTION.function, this.functions.length > 0, (w) => w.vector(funcTypeIndices, (t, v) => v.u32(t)));
    this.section(out, SECTION.memory, this.memory !== undefined && this.memory.import === undefined, (w) => {
      w.u32(1);
      this.writeLimits(w, this.memory!.limits);
    });
    this.section(out, SECTION.global, this.globals.length > 0, (w) => w.vector(this.globals, (g, v) => this.writeGlobal(v, g)));
    this.section(out, SECTION.export, this.exports.length > 0, (w) =>
      w.vector(this.exports, (e, v) => v.name(e.name).byte(EXTERNAL_KIND[e.kind]).u32(e.index())),
    );
    this.section(out, SECTION.code, this.functions.length > 0, (w) =>
      w.vector(this.functions, (f, v) => {
        const body = new ByteWriter().append(f.body!).toBytes(); // resolves call indices
        v.u32(body.length).bytes(body);
      }),
    );
    this.section(out, SECTION.data, this.data.length > 0, (w) =>
      w.vector(this.data, (d, v) => {
        v.u32(0); // active, memory 0
        v.byte(0x41).s32(d.offset).byte(0x0b); // i32.const offset; end
        v.u32(d.bytes.length).bytes(d.bytes);
      }),
    );
    this.writeNameSection(out);
    return out.toBytes();
  }

  // ---- ModuleContext ---------------------------------------------------------------------------

  /** @internal */
  typeIndex(type: FuncType): number {
    const found = this.types.findIndex((t) => sameTypes(t.params, type.params) && sameTypes(t.results, type.results));
    if (found >= 0) return found;
    this.types.push({ params: [...type.params], results: [...type.results] });
    return this.types.length - 1;
  }

  /** @internal */
  funcIndex(ref: FuncRef): number {
    const index = this.funcIndexOf.get(ref);
    if (!index) throw new WasmBuildError(`function "${ref.name}" is not part of this module`);
    return index();
  }

  /** @internal */
  ownsFunc(ref: FuncRef): boolean {
    return this.funcIndexOf.has(ref);
  }

  /** @internal */
  ownsGlobal(global: Global): boolean {
    return global.owner === this;
  }

  /** @internal */
  noteMemoryUse(op: string): void {
    this.memoryUser ??= op;
  }

  // ---- internals -------------------------------------------------------------------------------

  private newFuncRef(name: string, type: FuncType): FuncRef {
    return { kind: "func", name, type, owner: this };
  }

  private signatureOf<P extends Record<string, ValType>>(sig: FunctionSignature<P>): FuncType {
    return { params: Object.values(sig.params ?? {}), results: [...(sig.results ?? [])] };
  }

  private claimFunctionName(name: string): string {
    if (this.functionNames.has(name)) throw new WasmBuildError(`a function named "${name}" already exists in the module`);
    this.functionNames.add(name);
    return name;
  }

  private setMemory(decl: MemoryDecl): void {
    if (this.memory) throw new WasmBuildError("the module already has a memory (only one is supported)");
    this.memory = decl;
  }

  private checkLimits(limits: MemoryType): MemoryType {
    const pages = (n: number) => Number.isInteger(n) && n >= 0 && n <= MAX_PAGES;
    if (!pages(limits.min)) throw new WasmBuildError(`memory: min ${limits.min} is not a page count in [0, ${MAX_PAGES}]`);
    if (limits.max !== undefined && (!pages(limits.max) || limits.max < limits.min)) {
      throw new WasmBuildError(`memory: max ${limits.max} is not a page count in [min, ${MAX_PAGES}]`);
    }
    if (limits.shared && limits.max === undefined) throw new WasmBuildError("memory: a shared memory needs a max (its address space is reserved up front)");
    return { ...limits };
  }

  private addExport(decl: ExportDecl): void {
    if (this.exports.some((e) => e.name === decl.name)) throw new WasmBuildError(`an export named "${decl.name}" already exists`);
    this.exports.push(decl);
  }

  private checkComplete(): void {
    const missing = this.functions.filter((f) => !f.body).map((f) => `"${f.ref.name}" (${funcTypeText(f.ref.type)})`);
    if (missing.length > 0) throw new WasmBuildError(`functions declared without a body: ${missing.join(", ")}`);
    if (this.memoryUser && !this.memory) throw new WasmBuildError(`${this.memoryUser} needs a memory, but the module has none (defineMemory or importMemory)`);
  }

  private section(out: ByteWriter, id: number, present: boolean, write: (w: ByteWriter) => void): void {
    if (!present) return;
    const content = new ByteWriter();
    write(content);
    const bytes = content.toBytes();
    out.byte(id).u32(bytes.length).bytes(bytes);
  }

  private writeImports(w: ByteWriter, typeIndices: readonly number[]): void {
    const memoryImport = this.memory?.import;
    w.u32(this.imports.length + (memoryImport ? 1 : 0));
    this.imports.forEach((imp, i) => w.name(imp.module).name(imp.field).byte(EXTERNAL_KIND.function).u32(typeIndices[i]));
    if (memoryImport) {
      w.name(memoryImport.module).name(memoryImport.field).byte(EXTERNAL_KIND.memory);
      this.writeLimits(w, this.memory!.limits);
    }
  }

  private writeLimits(w: ByteWriter, limits: MemoryType): void {
    if (limits.max === undefined) w.byte(0x00).u32(limits.min);
    else w.byte(limits.shared ? 0x03 : 0x01).u32(limits.min).u32(limits.max);
  }

  private writeGlobal(w: ByteWriter, { global, init }: GlobalDecl): void {
    w.byte(VALTYPE_CODE[global.type]).byte(global.mutable ? 1 : 0);
    switch (global.type) {
      case "i32":
        w.byte(0x41).s32(Number(init));
        break;
      case "i64":
        w.byte(0x42).s64(BigInt(init));
        break;
      case "f32":
        w.byte(0x43).f32(Number(init));
        break;
      case "f64":
        w.byte(0x44).f64(Number(init));
        break;
      case "v128":
        throw new WasmBuildError("v128 globals are not supported");
    }
    w.byte(0x0b);
  }

  /** The `name` custom section: module name, function names, local names, global names. */
  private writeNameSection(out: ByteWriter): void {
    const names = new ByteWriter().name("name");
    const sub = (id: number, write: (w: ByteWriter) => void) => {
      const content = new ByteWriter();
      write(content);
      const bytes = content.toBytes();
      names.byte(id).u32(bytes.length).bytes(bytes);
    };
    if (this.name !== undefined) sub(NAME_SUBSECTION.module, (w) => w.name(this.name!));
    const allFunctions = [...this.imports.map((i) => i.ref), ...this.functions.map((f) => f.ref)];
    if (allFunctions.length > 0) {
      sub(NAME_SUBSECTION.function, (w) => w.vector(allFunctions, (ref, v) => v.u32(this.funcIndex(ref)).name(ref.name)));
      sub(NAME_SUBSECTION.local, (w) =>
        w.vector(this.functions, (f, v) => {
          v.u32(this.funcIndex(f.ref));
          v.vector(f.builder.allLocals(), (local, x) => x.u32(local.index).name(local.name));
        }),
      );
    }
    if (this.globals.length > 0) {
      sub(NAME_SUBSECTION.global, (w) => w.vector(this.globals, (g, v) => v.u32(g.global.index).name(g.global.name)));
    }
    const bytes = names.toBytes();
    out.byte(SECTION.custom).u32(bytes.length).bytes(bytes);
  }
}
