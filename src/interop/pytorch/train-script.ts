/**
 * The training script of the PyTorch export, `train_<name>.py`: the network's module (`<name>.py` beside it)
 * trained on the CSV or JSON data `bpgen train` reads (src/train/data.ts: the same columns, fields and one-hot
 * labels), with net.json's optimizer mapped to torch.optim (the same update rules; clipping by norm and value and
 * the skipping of a non-finite step written out as bpgen's trainStep does them), on one process or under
 * torchrun with DistributedDataParallel (gloo on CPU, nccl on GPUs). It writes the parameters as a safetensors
 * file with PyTorch names, which `bpgen train --resume` and the module load.
 */
import { pyString } from "./literals.ts";

export function trainScript(name: string, version: string): string {
  const module = pyString(`${name}.py`);
  const weights = pyString(`${name}.safetensors`);
  return `"""Trains the network ${name} (its module: ${name}.py beside this file), written by bpgen ${version}.

One process:   python3 train_${name}.py --data rows.csv --epochs 10 --batch 32
Several:       torchrun --nproc_per_node 2 train_${name}.py --data rows.csv
               (DistributedDataParallel: gloo on CPU, nccl on GPUs; each global batch of --batch rows is split
               between the processes, and its gradient is that of the batch mean, as on one process)
               (PyTorch 1.13 under Python 3.11, Debian 12's: torchrun --redirects 9:0 --tee 9:0 --nproc_per_node 2 …,
               since that torchrun cannot read its own default for these two flags)

The data, --inputs and --targets are read as bpgen train reads them (a CSV file with a header row, or a JSON array
of row objects; one label column becomes one-hot targets). Every row is trained on (bpgen train holds out
--validation rows). The optimizer is net.json's unless the flags say otherwise, with bpgen's defaults; the
update rules are bpgen's (torch.optim's SGD with dampening 0, Adam, AdamW), and so are its clipping (by global
norm, then by value) and its skipping of a step whose loss or gradient is not finite. The weights start from
--params, else from ${name}.safetensors beside this file when there is one, else as bpgen's initParams draws
them (the same distributions, from PyTorch's generator seeded with --seed). At the end the parameters are written to --out/params.safetensors (PyTorch names;
bpgen train --resume reads it), and the objective J on every row, in eval mode, is printed as JSON.
"""
import argparse
import csv
import importlib.util
import json
import math
import os

import torch
import torch.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))


def load_module():
    spec = importlib.util.spec_from_file_location("bpgen_net_${name}", os.path.join(HERE, ${module}))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


net_module = load_module()


# ---- data, as bpgen train reads it ------------------------------------------------------------------------

def fail(message):
    raise SystemExit("train_${name}.py: " + message)


def columns(header, names, flag):
    """Column indices for a list such as a,b,c or p0..p783."""
    def index(name):
        name = name.strip()
        if name not in header:
            fail(f"{flag} names a column the CSV does not have: {name!r}")
        return header.index(name)
    result = []
    for part in names.split(","):
        ends = part.split("..")
        if len(ends) != 2:
            result.append(index(part))
            continue
        a, b = index(ends[0]), index(ends[1])
        step = 1 if a <= b else -1
        result.extend(range(a, b + step, step))
    return result


def flatten(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float, str, list)):
        fail(f"{where}: a field is not a number, label or array of numbers")
    if isinstance(value, list):
        return [cell for k, v in enumerate(value) for cell in flatten(v, f"{where}[{k}]")]
    return [value]


def read_rows(path, inputs, targets):
    """The input cells and target cells of every row."""
    if path.lower().endswith(".csv"):
        with open(path, newline="", encoding="utf-8") as f:
            rows = [[cell.strip() for cell in row] for row in csv.reader(f)]
        rows = [row for row in rows if any(row)]
        header = rows.pop(0) if rows else []
        target_cols = columns(header, targets, "--targets") if targets else ([len(header) - 1] if net_module.TARGET_SIZE > 0 else [])
        input_cols = columns(header, inputs, "--inputs") if inputs else [i for i in range(len(header)) if i not in target_cols]
        for r, row in enumerate(rows):
            if len(row) != len(header):
                fail(f"line {r + 2}: a row has {len(row)} columns, the header {len(header)}")
        return [[row[c] for c in input_cols] for row in rows], [[row[c] for c in target_cols] for row in rows]
    if path.lower().endswith(".json"):
        with open(path, encoding="utf-8") as f:
            rows = json.load(f)
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            fail("the JSON data must be an array of row objects")

        def fields(names, fallbacks):
            if names:
                return [n.strip() for n in names.split(",")]
            return [next((f for f in fallbacks if rows and f in rows[0]), fallbacks[0])]

        def cells(names):
            out = []
            for r, row in enumerate(rows):
                for f in names:
                    if f not in row:
                        fail(f"[{r}]: a row has no field {f!r}")
                out.append([cell for f in names for cell in flatten(row[f], f"[{r}].{f}")])
            return out

        target_fields = fields(targets, ["y", "output", "label", "target", "targets"]) if net_module.TARGET_SIZE > 0 else []
        return cells(fields(inputs, ["x", "input", "inputs"])), cells(target_fields)
    fail("the data must be a .csv or .json file")


def number(cell, where):
    try:
        value = float(cell) if not isinstance(cell, str) or cell.strip() else float("nan")
    except ValueError:
        value = float("nan")
    if not math.isfinite(value):
        fail(f"{where}: a value is not a finite number: {cell!r}")
    return value


def load_data(path, inputs, targets):
    """x [rows, inputs] and y [rows, targets], one-hot from one label per row as bpgen does."""
    x_cells, y_cells = read_rows(path, inputs, targets)
    if not x_cells:
        fail("the data has no rows")
    size = math.prod(net_module.INPUT_SHAPE)
    for r, row in enumerate(x_cells):
        if len(row) != size:
            fail(f"row {r + 1}: {len(row)} input values, the network reads {size}")
    x = [[number(v, f"row {r + 1}") for v in row] for r, row in enumerate(x_cells)]
    k = net_module.TARGET_SIZE
    if k > 1 and all(len(row) == 1 for row in y_cells):
        labels = [str(row[0]) for row in y_cells]
        distinct = sorted(set(labels))
        if all(label.isdigit() and int(label) < k for label in distinct):
            classes = [str(i) for i in range(k)]
        elif len(distinct) > k:
            fail(f"{len(distinct)} classes in the data, {k} outputs in the network")
        else:
            classes = distinct
        y = [[1.0 if classes.index(label) == c else 0.0 for c in range(k)] for label in labels]
    else:
        for r, row in enumerate(y_cells):
            if len(row) != k:
                fail(f"row {r + 1}: {len(row)} target values, the network has {k}")
        y = [[number(v, f"row {r + 1}") for v in row] for r, row in enumerate(y_cells)]
    return torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)


# ---- the optimizer, as bpgen's createOptimizer and trainStep ---------------------------------------------

def optimizer_config(args):
    """Flags over net.json's optimizer (its other settings dropped when --optimizer names another type), then bpgen's defaults."""
    spec = dict(net_module.OPTIMIZER)
    kind = args.optimizer or spec.get("type", "adam")
    if kind != spec.get("type"):
        spec = {}
    flags = {"lr": args.lr, "momentum": args.momentum, "nesterov": args.nesterov or None, "beta1": args.beta1, "beta2": args.beta2,
             "epsilon": args.epsilon, "weightDecay": args.weight_decay, "clipNorm": args.clip_norm, "clipValue": args.clip_value}
    spec.update({k: v for k, v in flags.items() if v is not None})
    adaptive = kind in ("adam", "adamw")
    return {
        "type": kind,
        "lr": spec.get("lr", 0.001 if adaptive else 0.01),
        "momentum": spec.get("momentum", 0.9),
        "nesterov": bool(spec.get("nesterov", False)),
        "beta1": spec.get("beta1", 0.9),
        "beta2": spec.get("beta2", 0.999),
        "epsilon": spec.get("epsilon", 1e-8),
        "weightDecay": spec.get("weightDecay", 0.01 if kind == "adamw" else 0.0),
        "clipNorm": float(spec.get("clipNorm", math.inf)),
        "clipValue": float(spec.get("clipValue", math.inf)),
    }


def make_optimizer(parameters, c):
    if c["type"] == "sgd":
        return torch.optim.SGD(parameters, lr=c["lr"])
    if c["type"] == "momentum":
        # v <- mu v + g; p <- p - lr v (or p - lr (g + mu v)): bpgen's rule, PyTorch's with dampening 0
        return torch.optim.SGD(parameters, lr=c["lr"], momentum=c["momentum"], nesterov=c["nesterov"])
    betas = (c["beta1"], c["beta2"])
    if c["type"] == "adam":
        return torch.optim.Adam(parameters, lr=c["lr"], betas=betas, eps=c["epsilon"])
    if c["type"] == "adamw":
        return torch.optim.AdamW(parameters, lr=c["lr"], betas=betas, eps=c["epsilon"], weight_decay=c["weightDecay"])
    fail(f"unknown optimizer {c['type']!r}")


def clip(parameters, c):
    """bpgen's clipping: scale by min(1, clipNorm / norm), then clamp to [-clipValue, clipValue]. Returns the norm before."""
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = math.sqrt(sum(float(g.double().square().sum()) for g in grads))
    if math.isfinite(norm) and norm > c["clipNorm"]:
        for g in grads:
            g.mul_(c["clipNorm"] / norm)
    if math.isfinite(c["clipValue"]):
        for g in grads:
            g.clamp_(-c["clipValue"], c["clipValue"])
    return norm


# ---- training -----------------------------------------------------------------------------------------

class Training(torch.nn.Module):
    """What DistributedDataParallel runs: the loss of each sample."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x, y):
        return self.net.loss(x, y)


def main():
    parser = argparse.ArgumentParser(description=f"train {net_module.NET_NAME} on CSV/JSON data")
    parser.add_argument("--data", required=True, help="a .csv (header row) or .json (array of objects) file")
    parser.add_argument("--inputs", help="CSV columns / JSON fields of the inputs, comma-separated; a..b is a column range")
    parser.add_argument("--targets", help="CSV columns / JSON fields of the targets; one label column is one-hot encoded")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32, help="rows per step, over all processes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--optimizer", choices=["sgd", "momentum", "adam", "adamw"])
    parser.add_argument("--lr", type=float)
    parser.add_argument("--momentum", type=float)
    parser.add_argument("--nesterov", action="store_true")
    parser.add_argument("--beta1", type=float)
    parser.add_argument("--beta2", type=float)
    parser.add_argument("--epsilon", type=float)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--clip-norm", type=float)
    parser.add_argument("--clip-value", type=float)
    parser.add_argument("--params", help="start from these weights (.safetensors, PyTorch names)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--out", default=".", help="where to write params.safetensors")
    args = parser.parse_args()

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available()
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if cuda else "cpu")
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(args.seed)

    x_all, y_all = load_data(args.data, args.inputs, args.targets)
    x_all, y_all = x_all.to(device, dtype), y_all.to(device, dtype)
    start = args.params or (os.path.join(HERE, ${weights}) if os.path.exists(os.path.join(HERE, ${weights})) else None)
    net = net_module.load(start, dtype).to(device)
    if world > 1 and cuda:
        # batch norm over the whole batch, as on one process (PyTorch's SyncBatchNorm runs on GPUs only)
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    training = Training(net)
    if world > 1:
        training = torch.nn.parallel.DistributedDataParallel(training, device_ids=[device.index] if cuda else None)
    config = optimizer_config(args)
    parameters = list(net.parameters())
    optimizer = make_optimizer(parameters, config)
    # dropout's masks differ between processes
    torch.manual_seed(args.seed + rank)

    count = x_all.shape[0]
    order_generator = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(count, generator=order_generator).to(device)
        total, steps, skipped = 0.0, 0, 0
        for begin in range(0, count, args.batch):
            rows = order[begin:begin + args.batch]
            if len(rows) < world:
                continue
            mine = rows[rank::world]
            losses = training(x_all[mine], y_all[mine])
            # this process's share of the batch mean: DistributedDataParallel averages the gradients over the processes
            objective = losses.sum() * (world / len(rows)) + net.penalty()
            optimizer.zero_grad()
            objective.backward()
            batch_sum = losses.detach().sum()
            if world > 1:
                dist.all_reduce(batch_sum)
            J = float(batch_sum) / len(rows) + float(net.penalty())
            norm = clip(parameters, config)
            if math.isfinite(norm) and math.isfinite(J):
                optimizer.step()
                total += J
                steps += 1
            else:
                skipped += 1
        if rank == 0:
            print(json.dumps({"epoch": epoch + 1, "objective": total / max(steps, 1), "steps": steps, "skipped": skipped}), flush=True)

    if rank == 0:
        net.eval()
        with torch.no_grad():
            final = float(net.objective(x_all, y_all))
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "params.safetensors")
        net_module.save(net, path)
        print(json.dumps({"final_objective": final, "rows": count, "processes": world, "optimizer": config["type"], "params": path}), flush=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
}
