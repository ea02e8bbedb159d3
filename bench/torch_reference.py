"""The workloads of bench/workloads.ts in PyTorch, one thread: the reference our tfjs times are divided by.
Prints one JSON line per workload: {"workload", "ms"} (median ms per training step)."""
import json, sys
import torch
from torch_timing import median_ms

torch.set_num_threads(1)
torch.manual_seed(0)
B = 256


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def w1():
    net = mlp([64, 256, 256, 64])
    x, y = torch.randn(B, 64), torch.randn(B, 64)
    opt = torch.optim.Adam(net.parameters(), 1e-3)

    def step():
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        opt.step()
    return step


def w5(horizon=5):
    dyn = mlp([12, 256, 256, 64])
    codebook = torch.nn.Parameter(torch.randn(64, 8))
    start = torch.randn(B, 8)
    actions = [torch.randn(B, 4) for _ in range(horizon)]
    targets = [torch.randint(0, 64, (B,)) for _ in range(horizon)]
    opt = torch.optim.Adam(list(dyn.parameters()) + [codebook], 1e-3)

    def step():
        opt.zero_grad()
        code, loss = start, 0.0
        for t in range(horizon):
            logits = dyn(torch.cat([code, actions[t]], 1))
            loss = loss + 0.9 ** t * torch.nn.functional.cross_entropy(logits, targets[t])
            code = torch.nn.functional.gumbel_softmax(logits, tau=1.0, hard=True) @ codebook
        loss.backward()
        opt.step()
    return step


for name, make in [("W1", w1), ("W5", w5)]:
    print(json.dumps({"workload": name, "ms": median_ms(make()), "torch": torch.__version__}))
sys.stdout.flush()
