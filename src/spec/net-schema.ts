/**
 * schema/net.schema.json, with its layer definitions taken from the layer registry (src/frontend/layers/): one
 * definition per layer type from its fields, and a "layer" definition that picks it by "type". The rest of the
 * schema is written by hand in the file; `npm run docs` rewrites the file, and a test checks it is current.
 */
import { readFileSync } from "node:fs";
import { ACTIVATIONS } from "../frontend/functions.ts";
import { LAYER_KINDS } from "../frontend/layers/index.ts";
import type { LayerKind } from "../frontend/layers/index.ts";

export const SCHEMA_URL = new URL("../../schema/net.schema.json", import.meta.url);

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The name of a layer type's definition: dense → denseLayer, max_pool2d → maxPool2dLayer. */
export const definitionName = (type: string) => `${type.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())}Layer`;

/** The schema as the registry makes it, from the hand-written parts of `base` (the file's current content by default). */
export function netSchema(base: JsonObject = JSON.parse(readFileSync(SCHEMA_URL, "utf8")) as JsonObject): JsonObject {
  const definitions = { ...(base.definitions as JsonObject) };
  for (const name of Object.keys(definitions)) if (/Layer$/.test(name)) delete definitions[name];
  definitions.activation = activationSchema();
  definitions.layer = dispatcher();
  for (const kind of LAYER_KINDS.values()) definitions[definitionName(kind.type)] = layerDefinition(kind);
  const layerNet = definitions.layerNet as JsonObject;
  const properties = layerNet.properties as JsonObject;
  definitions.layerNet = {
    ...layerNet,
    properties: {
      ...properties,
      layers: {
        type: "array",
        title: "layers",
        description: `The layers, from the input to the output: ${[...LAYER_KINDS.keys()].join(", ")}. Parameters are named after each layer's place: W1, b1, W2, … (docs/net-json.md).`,
        minItems: 1,
        items: { $ref: "#/definitions/layer" },
      },
    },
  };
  return { ...base, definitions };
}

function activationSchema(): Json {
  return {
    title: "activation",
    anyOf: [{ enum: [...ACTIVATIONS] }, { type: "string", minLength: 1 }],
  };
}

/** Any layer: its "type" one of the registry's, and then that type's definition. */
function dispatcher(): Json {
  return {
    type: "object",
    title: "layer",
    required: ["type"],
    // the fields many types share are checked even when the type is unknown, so one run reports them too
    properties: {
      type: { enum: [...LAYER_KINDS.keys()], description: "The layer type." },
      activation: { $ref: "#/definitions/activation" },
      bias: { type: "boolean" },
      init: { $ref: "#/definitions/init" },
    },
    allOf: [...LAYER_KINDS.keys()].map((type) => ({
      if: { type: "object", required: ["type"], properties: { type: { const: type } } },
      then: { $ref: `#/definitions/${definitionName(type)}` },
    })),
  };
}

function layerDefinition(kind: LayerKind): Json {
  const fields = Object.fromEntries(Object.entries(kind.fields).map(([name, field]) => [name, { title: field.what, ...field.schema } as Json]));
  return {
    type: "object",
    title: kind.title,
    description: kind.description,
    additionalProperties: false,
    required: ["type", ...kind.required],
    properties: { type: { const: kind.type }, ...fields },
  };
}

/** JSON as the schema file is written: arrays of plain values and short objects on one line. */
export function formatJson(value: Json, indent = ""): string {
  const flat = JSON.stringify(value, null, 1).replace(/\n\s*/g, " ").replace(/\[ /g, "[").replace(/ \]/g, "]");
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const plainArray = Array.isArray(value) && value.every((v) => v === null || typeof v !== "object");
  if (plainArray || indent.length + flat.length <= 110) return flat.replace(/\{ /g, "{ ").replace(/ \}/g, " }");
  const inner = indent + "  ";
  if (Array.isArray(value)) return `[\n${(value as readonly Json[]).map((v) => inner + formatJson(v, inner)).join(",\n")}\n${indent}]`;
  const entries = Object.entries(value as { [key: string]: Json });
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(",\n")}\n${indent}}`;
}

/** The text of schema/net.schema.json. */
export const netSchemaText = (): string => formatJson(netSchema() as Json) + "\n";
