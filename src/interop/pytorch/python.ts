/**
 * The Python file of the PyTorch export: the network as a torch.nn.Sequential subclass (plan.ts), its loss as
 * bpgen defines it (frontend/layers/build.ts buildLoss: per sample, then the batch mean, plus the l2 penalty), and
 * a small reader and writer of safetensors (Debian's python3-torch comes without the safetensors package; when
 * it is installed, its load_file and save_file are used).
 *
 * Everything printed from net.json is a number, a boolean, a checked identifier (the network's name) or a
 * JSON string literal, which Python reads as the same string: no text of net.json is ever code.
 */
import type { InitPlan } from "../../ir/net.ts";
import type { LayerNetSpec, LayerSpec, OptimizerSpec } from "../../spec/types.ts";
import { num, py, pyString } from "./literals.ts";
import type { Helper, TorchModule, TorchPlan } from "./plan.ts";


const pyTuple = (xs: readonly string[]) => (xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(", ")})`);

export interface ModuleSource {
  readonly spec: LayerNetSpec<LayerSpec>;
  readonly plan: TorchPlan;
  /** The net.json path, for the header. */
  readonly file: string;
  readonly version: string;
}

/** The text of `<name>.py`. */
export function moduleFile({ spec, plan, file, version }: ModuleSource): string {
  const input = typeof spec.input === "number" ? [spec.input] : spec.input;
  const penalised = plan.tensors.filter((t) => t.penalised).map((t) => pyString(t.torch));
  return `"""The network ${spec.name} as a PyTorch module, written by bpgen ${version} (bpgen export --to pytorch) from ${pyString(file).slice(1, -1).replace(/"""/g, "")}.

Net() is a torch.nn.Sequential whose state_dict names and layouts are those of bpgen's safetensors files with
PyTorch names: Net().load_state_dict(load_file("params.safetensors")) loads the parameters bpgen trained.
It reads bpgen's layout: a batch of samples [batch, ${input.join(", ")}], channels last (rows of
${input.reduce((a, b) => a * b, 1)} numbers are reshaped), and writes bpgen's output, channels last.

  net(x)               bpgen's forward: the output (probabilities under softmax_cross_entropy)
  net.loss(x, y)       bpgen's loss of each sample, [batch]
  net.objective(x, y)  J: the batch mean of the loss plus the l2 penalty (what bpgen differentiates)

In train() mode batch norm uses the batch's statistics and updates its running ones, and dropout drops (with
PyTorch's random masks, not bpgen's); in eval() mode they compute bpgen's forward and loss.
"""
import json
import struct
import sys

import torch
from torch import nn

NET_NAME = ${pyString(spec.name)}
INPUT_SHAPE = ${pyTuple(input.map(String))}
OUTPUT_SHAPE = ${pyTuple(plan.outputShape.map(String))}
TARGET_SIZE = ${plan.outputShape.reduce((a, b) => a * b, 1)}
LOSS = ${pyString(spec.loss)}
L2 = ${num(spec.l2 ?? 0)}
L2_PARAMETERS = ${pyTuple(penalised)}
# net.json's "optimizer" (bpgen's default: Adam with lr 0.001)
OPTIMIZER = ${optimizerLiteral(spec.optimizer)}
# each parameter's initialisation, bpgen's: a constant, Xavier (Glorot) uniform in ±limit, or He normal of std
INIT = {
${plan.tensors.filter((t) => t.init).map((t) => `    ${pyString(t.torch)}: ${initLiteral(t.init as InitPlan)},`).join("\n")}
}
${INITIALISE}${[...plan.helpers].sort().map((h) => HELPERS[h]).join("")}${plan.functions.join("")}

class Net(nn.Sequential):
    """${spec.name}: ${spec.layers.length} layer${spec.layers.length === 1 ? "" : "s"} of bpgen's layer form, loss ${spec.loss}."""

    def __init__(self):
        super().__init__(
${sequenceBody(plan.modules, 12)}
        )
        initialise(self, INIT)

    def logits(self, x):
        """What the loss reads: the last layer's output${plan.logitsEnd < plan.modules.length ? " before its sigmoid" : spec.loss === "softmax_cross_entropy" ? " (the logits of the softmax)" : ""}."""
        x = x.reshape(x.shape[0], *INPUT_SHAPE)
        for module in list(self)[:${plan.logitsEnd}]:
            x = module(x)
        return x

    def forward(self, x):
        """bpgen's forward: [batch, *OUTPUT_SHAPE]."""
        return self._output(self.logits(x))

    def _output(self, z):
        for module in list(self)[${plan.logitsEnd}:]:
            z = module(z)
        return ${spec.loss === "softmax_cross_entropy" ? "torch.softmax(z, dim=-1)" : "z"}

    def loss(self, x, y):
        """bpgen's loss of each sample: ${LOSS_TEXT[spec.loss]}."""
        z = self.logits(x)
        y = y.reshape(z.shape)
${lossBody(spec, plan)}
        return per_value.reshape(per_value.shape[0], -1).sum(dim=1)

    def penalty(self):
        """The l2 penalty: L2 / 2 times the sum of squares of the weights (not the biases, gains or initial states)."""
        if L2 == 0:
            return 0.0
        parameters = dict(self.named_parameters())
        return L2 / 2 * sum(parameters[name].square().sum() for name in L2_PARAMETERS)

    def objective(self, x, y):
        """J: the batch mean of the loss, plus the l2 penalty."""
        return self.loss(x, y).mean() + self.penalty()


${loadAndSave("pytorch")}
${SAFETENSORS}`;
}

/**
 * The module's load() and save() of safetensors files: under PyTorch's state_dict names (the layer form's
 * modules), or under bpgen's names (the equation form, whose parameters are `p.<name>` in the state_dict).
 */
export function loadAndSave(names: "pytorch" | "bpgen"): string {
  const bpgen = names === "bpgen";
  return `def load(path=None, dtype=None):
    """A Net with the tensors of a safetensors file (${bpgen ? "bpgen's names" : "PyTorch names"}); dtype: the file's unless given."""
    net = Net()
    if path is None:
        return net if dtype is None else net.to(dtype)
    tensors = load_file(path)
    floats = [t.dtype for t in tensors.values() if t.is_floating_point()]
    net = net.to(dtype or (floats[0] if floats else torch.float32))
    net.load_state_dict(${bpgen ? '{"p." + name: t for name, t in tensors.items()}' : "tensors"})
    return net


def save(net, path, metadata=None):
    """Writes the ${bpgen ? "parameters" : "parameters and running statistics"} of \`net\` as a safetensors file bpgen reads (bpgen train --resume)."""
    tensors = {${bpgen ? 'name[2:]: t.detach().cpu().contiguous() for name, t in net.state_dict().items() if name.startswith("p.")' : "name: t.detach().cpu().contiguous() for name, t in net.state_dict().items()"}}
    save_file(tensors, path, {"format": "bpgen", "net": NET_NAME, "names": "${names}", **(metadata or {})})`;
}

/** `("uniform", limit)`, `("normal", std)` or `("constant", value)`: bpgen's initParams' distribution. */
export function initLiteral(init: InitPlan): string {
  if (init.kind === "constant") return `("constant", ${num(init.value)})`;
  if (init.kind === "xavier") return `("uniform", ${num(Math.sqrt(6 / (init.fanIn + init.fanOut)))})`;
  return `("normal", ${num(Math.sqrt(2 / init.fanIn))})`;
}

/** Draws the parameters as bpgen's initParams does (the same distributions, from PyTorch's generator). */
export const INITIALISE = `

def initialise(module, plans):
    # each parameter drawn from bpgen's distribution for it (plans: name to (kind, number))
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            kind, value = plans[name]
            if kind == "constant":
                parameter.fill_(value)
            elif kind == "uniform":
                parameter.uniform_(-value, value)
            else:
                parameter.normal_(0.0, value)
`;

const LOSS_TEXT: Record<LayerNetSpec["loss"], string> = {
  mse: "½ Σ (a − y)² over every value",
  binary_cross_entropy: "−Σ y log a + (1 − y) log(1 − a) over every value (from the logit when a = σ(z))",
  softmax_cross_entropy: "logsumexp(z) − Σ y z (for a sequence, summed over the steps)",
};

function lossBody(spec: LayerNetSpec<LayerSpec>, plan: TorchPlan): string {
  const lines = (...xs: string[]) => xs.map((l) => `        ${l}`).join("\n");
  switch (spec.loss) {
    case "mse":
      return lines("a = self._output(z)", "per_value = 0.5 * (a - y).square()");
    case "softmax_cross_entropy":
      return lines("per_value = torch.logsumexp(z, dim=-1) - (y * z).sum(dim=-1)");
    case "binary_cross_entropy":
      if (plan.logitsEnd < plan.modules.length) {
        // softplus(z) − y z, softplus in bpgen's overflow-free form
        return lines("per_value = z.clamp(min=0) + torch.log1p(torch.exp(-z.abs())) - y * z");
      }
      return lines("a = self._output(z)", "per_value = -(y * torch.log(a) + (1 - y) * torch.log(1 - a))");
  }
}

/** The entries of a Sequential's constructor, each on its line with its comment above. */
function sequenceBody(modules: readonly TorchModule[], indent: number): string {
  const pad = " ".repeat(indent);
  return modules
    .map((m, i) => {
      const comment = m.comment ? `${pad}# ${i}: ${m.comment.replace(/[\r\n]/g, " ")}\n` : "";
      if (m.kind === "module") return `${comment}${pad}${m.code},`;
      const body = `nn.Sequential(\n${sequenceBody(m.body, indent + 8)}\n${pad}    )`;
      return `${comment}${pad}Residual(\n${pad}    ${body},\n${pad}    ${m.projection ?? "None"},\n${pad}),`;
    })
    .join("\n");
}

function optimizerLiteral(spec: OptimizerSpec | undefined): string {
  const entries = Object.entries(spec ?? { type: "adam", lr: 0.001 })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${pyString(k)}: ${typeof v === "number" ? (Number.isFinite(v) ? num(v) : `float(${pyString(String(v))})`) : typeof v === "boolean" ? py(v) : pyString(String(v))}`);
  return `{${entries.join(", ")}}`;
}

/**
 * RNNLayer, LSTMLayer and GRULayer: PyTorch's module of one layer, batch first, as bpgen's layer computes it. A
 * bidirectional one's learned initial states are two parameters per carried value, stacked into PyTorch's
 * [directions, batch, units]; its last state joins each direction's own (h_n), the reverse one's being after the first
 * step, which output[:, -1] does not hold.
 */
const recurrentHelper = (name: string, base: string, lstm: boolean) => {
  const rnn = base === "nn.RNN";
  const learned = (p: string) => `\n        self.${p} = nn.Parameter(torch.zeros(hidden_size)) if learned_initial else None`;
  const learnedReverse = (p: string) => `\n        self.${p}_reverse = nn.Parameter(torch.zeros(hidden_size)) if learned_initial and bidirectional else None`;
  const carried = lstm ? ["h0", "c0"] : ["h0"];
  const initial = carried.map((p) => `initial(self.${p}, self.${p}_reverse)`);
  // what forward returns besides out: h_n, [directions, batch, hidden_size] (with c_n for an LSTM)
  const final = lstm ? "(h_n, _)" : "h_n";
  return `

class ${name}(${base}):
    """bpgen's ${base.slice(3).toLowerCase()} layer: batch first, one layer; the last step's state unless return_sequences; h0${lstm ? " and c0" : ""} learned or zeros; bidirectional: a reverse direction too, its states after the forward one's."""

    def __init__(self, input_size, hidden_size, return_sequences, learned_initial${rnn ? ", nonlinearity" : ""}, bidirectional=False):
        super().__init__(input_size, hidden_size, batch_first=True${rnn ? ", nonlinearity=nonlinearity" : ""}, bidirectional=bidirectional)
        self.return_sequences = return_sequences${carried.map(learned).join("")}${carried.map(learnedReverse).join("")}

    def forward(self, x):
        if self.h0 is None:
            out, ${final} = super().forward(x)
        else:
            # PyTorch's initial state is [directions, batch, hidden_size]: each direction's parameter, over the batch
            initial = lambda *ps: torch.stack([p for p in ps if p is not None]).unsqueeze(1).expand(-1, x.shape[0], -1).contiguous()
            out, ${final} = super().forward(x, ${lstm ? `(${initial.join(", ")})` : initial[0]})
        if self.return_sequences:
            return out
        if not self.bidirectional:
            return out[:, -1]
        # each direction's last state: the reverse one's is after reading the first step, not in out[:, -1]
        return torch.cat((h_n[0], h_n[1]), dim=1)
`;
};

const HELPERS: Record<Helper, string> = {
  Activation: `

class Activation(nn.Module):
    """An activation written in torch operations (a function below)."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function(x)
`,
  ChannelsFirst: `

class ChannelsFirst(nn.Module):
    """[batch, spatial..., channels] (bpgen's layout) to [batch, channels, spatial...] (PyTorch's convolutions and pooling)."""

    def forward(self, x):
        return x.movedim(-1, 1)
`,
  ChannelsLast: `

class ChannelsLast(nn.Module):
    """[batch, channels, spatial...] back to bpgen's [batch, spatial..., channels]."""

    def forward(self, x):
        return x.movedim(1, -1)
`,
  Residual: `

class Residual(nn.Module):
    """bpgen's residual block: body(x) + x, or body(x) + projection(x)."""

    def __init__(self, body, projection=None):
        super().__init__()
        self.body = body
        self.projection = projection

    def forward(self, x):
        return self.body(x) + (x if self.projection is None else self.projection(x))
`,
  RNNLayer: recurrentHelper("RNNLayer", "nn.RNN", false),
  LSTMLayer: recurrentHelper("LSTMLayer", "nn.LSTM", true),
  GRULayer: recurrentHelper("GRULayer", "nn.GRU", false),
};

/** The safetensors reader and writer (F32, F64 and I64 and the other fixed-width types; little-endian). */
export const SAFETENSORS = `

# ---- safetensors: 8 bytes of header length (little-endian), a JSON header, then the tensors' bytes ----------

_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}


def load_file(path):
    """The tensors of a safetensors file, by name (safetensors.torch.load_file when the package is installed)."""
    try:
        from safetensors.torch import load_file as package_load
    except ImportError:
        package_load = None
    if package_load is not None:
        return package_load(path)
    if sys.byteorder != "little":
        raise RuntimeError("this reader of safetensors needs a little-endian machine")
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length].decode("utf-8"))
    header.pop("__metadata__", None)
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        dtype = _DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"])
    return tensors


def save_file(tensors, path, metadata=None):
    """Writes tensors (name to tensor) as a safetensors file (safetensors.torch.save_file when installed)."""
    try:
        from safetensors.torch import save_file as package_save
    except ImportError:
        package_save = None
    if package_save is not None:
        return package_save(tensors, path, metadata)
    header = {"__metadata__": dict(metadata)} if metadata else {}
    chunks = []
    offset = 0
    for name, tensor in tensors.items():
        data = tensor.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {"dtype": _NAMES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)
`;
