import { describe, expect, it } from "vitest";
import { BpgenError } from "../../src/errors.ts";
import { decodeSafetensors, encodeSafetensors } from "../../src/interop/safetensors.ts";

/** A file laid out by hand, byte by byte, as the format describes it (not through the encoder). */
function handMade(header: object, data: number[], width: 4 | 8 = 4): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length * width);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  data.forEach((v, i) => (width === 4 ? view.setFloat32(8 + json.length + 4 * i, v, true) : view.setFloat64(8 + json.length + 8 * i, v, true)));
  return out;
}

const problem = (bytes: Uint8Array): string => {
  try {
    decodeSafetensors(bytes, "w.safetensors");
  } catch (e) {
    expect(e).toBeInstanceOf(BpgenError);
    return (e as BpgenError).message;
  }
  throw new Error("expected the file to be refused");
};

describe("safetensors", () => {
  it("reads a file laid out by hand", () => {
    const bytes = handMade({ b: { dtype: "F32", shape: [2], data_offsets: [24, 32] }, W: { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] }, __metadata__: { format: "pt" } }, [1, 2, 3, 4, 5, 6, -1, 0.5]);
    const { tensors, metadata } = decodeSafetensors(bytes, "w.safetensors");
    expect(metadata).toEqual({ format: "pt" });
    expect(tensors.map((t) => t.name)).toEqual(["W", "b"]);
    expect(Array.from(tensors[0].data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensors[0].shape).toEqual([2, 3]);
    expect(Array.from(tensors[1].data)).toEqual([-1, 0.5]);
  });

  it("writes what it reads back, in both precisions, with the header padded to 8 bytes", () => {
    const w = Float64Array.from([Math.PI, -1e-300, 2 ** 60]);
    const v = Float32Array.from([0.1, 7]);
    const bytes = encodeSafetensors([{ name: "w", dtype: "F64", shape: [3], data: w }, { name: "v.weight", dtype: "F32", shape: [1, 2], data: v }], { net: "tiny" });
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + length) % 8).toBe(0);
    const back = decodeSafetensors(bytes, "x.safetensors");
    expect(back.metadata).toEqual({ net: "tiny" });
    expect(back.tensors[0]).toMatchObject({ name: "w", dtype: "F64", shape: [3] });
    expect(Array.from(back.tensors[0].data)).toEqual(Array.from(w));
    expect(back.tensors[1].data).toBeInstanceOf(Float32Array);
    expect(Array.from(back.tensors[1].data)).toEqual(Array.from(v));
  });

  it("reads 64-bit integers (a batch norm's num_batches_tracked) as numbers", () => {
    const json = new TextEncoder().encode(JSON.stringify({ n: { dtype: "I64", shape: [], data_offsets: [0, 8] } }));
    const bytes = new Uint8Array(8 + json.length + 8);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    view.setBigInt64(8 + json.length, 123456789012n, true);
    expect(Array.from(decodeSafetensors(bytes, "bn.safetensors").tensors[0].data)).toEqual([123456789012]);
  });

  it("refuses damaged and foreign files with one message each", () => {
    expect(problem(new Uint8Array(3))).toMatch(/shorter than its 8-byte header length/);
    expect(problem(new TextEncoder().encode('{"format": "bpgen-params"}'))).toMatch(/header length runs past the end/);
    expect(problem(handMade({ W: { dtype: "BF16", shape: [1], data_offsets: [0, 2] } }, []))).toMatch(/dtype bpgen does not read/);
    expect(problem(handMade({ W: { dtype: "F32", shape: [2, 2], data_offsets: [0, 8] } }, [1, 2]))).toMatch(/hold 8 bytes .* needs 16/);
    expect(problem(handMade({ W: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, [1, 2, 3]))).toMatch(/bytes after its last tensor/);
    expect(problem(handMade({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, [1, 2]))).toMatch(/overlap/);
    expect(problem(handMade({ W: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, [1]))).toMatch(/run past the end/);
  });
});
