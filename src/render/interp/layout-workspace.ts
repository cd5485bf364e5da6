/**
 * A workspace laid out as the WebAssembly kernels lay out theirs (passes/reuse.ts WorkspaceLayout, addressed as
 * render/wasm/function.ts does): one array, the buffers of one value per call at their offsets, then each
 * per-sample buffer as `batch` consecutive rows from `batch ×` its row offset. Buffers the layout lets share
 * bytes share them here, so running a function on it shows whether sharing changes a result.
 */
import type { Buffer } from "../../lower/kernel.ts";
import type { WorkspaceLayout } from "../../lower/passes/reuse.ts";
import { type Binding, type FloatArray, type Precision, type Workspace, arrayType } from "./interpret.ts";

export class LayoutWorkspace implements Workspace {
  private array: FloatArray;
  private batch = 0;

  constructor(
    private readonly layout: WorkspaceLayout,
    private readonly precision: Precision,
    /** What the memory holds before the first call (garbage, to show a read before a write). */
    private readonly initial = 0,
  ) {
    this.array = new (arrayType(precision))(0);
  }

  reserve(batch: number): void {
    this.batch = batch;
    const size = this.layout.fixedSize + batch * this.layout.rowsSize;
    if (size > this.array.length) this.array = new (arrayType(this.precision))(size).fill(this.initial);
  }

  bind(b: Buffer): Binding {
    const { layout, batch } = this;
    const fixed = layout.fixed.get(b);
    const row = layout.rows.get(b);
    const start = b.perSample ? (row === undefined ? undefined : layout.fixedSize + batch * row) : fixed;
    if (start === undefined) throw new Error(`the workspace layout has no place for a buffer of ${b.size} elements`);
    const extent = b.perSample ? batch * b.size : b.size;
    const map = (e: number) => {
      // an element outside its buffer would silently be another buffer's here
      if (!(e >= 0 && e < extent)) throw new Error(`element ${e} is outside its workspace buffer of ${extent} elements`);
      return start + e;
    };
    return { array: this.array, map };
  }
}
