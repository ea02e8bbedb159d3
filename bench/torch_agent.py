"""The imagination agent's update and the planner's scoring call in PyTorch, one thread: the reference
`npm run bench -- agent` divides the project's times by (bench/agent.ts writes the input file).

Same layer sizes, batch, horizon, losses (world model: CE to the next code, reward MSE, termination
BCE, rho^t weights, masks, inverse dynamics; value: n-step TD on a 5-head ensemble with a random
pair's minimum as target), estimator (ST Gumbel-softmax), optimisers (Adam eps 1e-7, the encoder at
its own learning rate, global-norm clipping) and Polyak step. It loads the project's initial
weights, replays the project's first update with the project's batch, noise and ensemble pair, and
checks the results (losses, gradient norm, weights after the step, imagined scores) before timing.

usage: python3 torch_agent.py INPUT.json   -> one JSON line: checks, update_ms, score_ms
"""
import json, math, sys
import torch
import torch.nn.functional as F
from torch_timing import median_ms

torch.set_num_threads(1)


class Port:
    def __init__(self, spec):
        self.c = spec["config"]
        w = {k: torch.tensor(v["data"], dtype=torch.float32).reshape(v["shape"]) for k, v in spec["weights"].items()}
        self.offset, self.scale = w.pop("normalization/offset"), w.pop("normalization/scale")
        self.w = {k: v.requires_grad_(not k.startswith("q_target")) for k, v in w.items()}
        c = self.c
        levels = c["levels"]
        self.half = torch.tensor([(l - 1) * (1 + 1e-3) / 2 for l in levels])
        self.off = torch.tensor([0.5 if l % 2 == 0 else 0.0 for l in levels])
        self.shift = torch.atanh(self.off / self.half)
        self.width = torch.tensor([float(l // 2) for l in levels])
        self.basis = torch.tensor([float(math.prod(levels[:j])) for j in range(len(levels))])
        self.codebook = torch.tensor(spec["codebook"], dtype=torch.float32).reshape(-1, len(levels))
        enc = [v for k, v in self.w.items() if k.startswith("encoder/")]
        rest = [v for k, v in self.w.items() if not k.startswith(("encoder/", "q"))]
        self.wm_opt = torch.optim.Adam([{"params": enc, "lr": c["lr"] * c["encoderLrScale"]}, {"params": rest, "lr": c["lr"]}], eps=1e-7)
        self.critics = [self.w[f"q/{p}{i}"] for p in "wb" for i in range(len(c["valueHidden"]) + 1)]
        self.targets = [self.w[f"q_target/{p}{i}"] for p in "wb" for i in range(len(c["valueHidden"]) + 1)]
        self.q_opt = torch.optim.Adam(self.critics, lr=c["valueLr"], eps=1e-7)

    def mlp(self, name, x, layers):
        for i in range(layers):
            x = torch.addmm(self.w[f"{name}/b{i}"], x, self.w[f"{name}/w{i}"])
            if i < layers - 1:
                x = F.elu(x)
        return x

    def encode(self, obs):
        z = self.mlp("encoder", (obs - self.offset) * self.scale, len(self.c["encoderHidden"]) + 1)
        bounded = torch.tanh(z.view(z.shape[0], -1, len(self.half)) + self.shift) * self.half - self.off
        rounded = bounded + (torch.round(bounded) - bounded).detach()
        return rounded / self.width  # [N, L, d]

    def indices(self, codes):
        return (torch.round(codes * self.width + self.width) * self.basis).sum(-1).long()

    def heads(self, code, action):
        x = torch.cat([code.reshape(code.shape[0], -1), action], 1)
        c = self.c
        logits = self.mlp("dynamics", x, len(c["dynamicsHidden"]) + 1).view(x.shape[0], c["latents"], -1)
        reward = self.mlp("reward", x, len(c["headHidden"]) + 1).squeeze(1)
        term = self.mlp("terminated", x, len(c["headHidden"]) + 1).squeeze(1)
        return logits, reward, term

    def wm_step(self, b, gumbels):
        c = self.c
        B, H, S, A = c["batch"], c["horizon"], c["obsSize"], c["actions"]
        obs = torch.from_numpy(b["obs"]).float().view(B, H + 1, S)
        acts = F.one_hot(torch.from_numpy(b["actions"]).long().view(B, H), A).float()
        rew = torch.from_numpy(b["rewards"]).view(B, H)
        term = torch.from_numpy(b["terminated"]).float().view(B, H)
        mask = torch.from_numpy(b["mask"]).view(B, H)
        codes01 = self.encode(obs[:, :2].transpose(0, 1).reshape(2 * B, S))  # o_0 of every sequence, then o_1
        code0, code1 = codes01[:B], codes01[B:]
        with torch.no_grad():
            later = self.encode(obs[:, 2:].reshape(B * (H - 1), S)).view(B, H - 1, c["latents"], -1)
            targets = torch.cat([self.indices(code1).unsqueeze(1), self.indices(later)], 1)  # [B, H, L]
        code = code0
        f = 0.0
        sums = torch.zeros(3)
        for t in range(H):
            logits, r, d = self.heads(code, acts[:, t])
            ce = -(F.log_softmax(logits, 2).gather(2, targets[:, t].unsqueeze(2)).squeeze(2)).mean(1)
            mse = (r - rew[:, t]) ** 2
            bce = F.relu(d) - d * term[:, t] + torch.log1p(torch.exp(-d.abs()))
            m = mask[:, t]
            f = f + m * c["rho"] ** t * (ce + c["rewardWeight"] * mse + c["terminationWeight"] * bce)
            sums = sums + torch.stack([(m * ce).sum(), (m * mse).sum(), (m * bce).sum()]).detach()
            if t == 0:
                acc = (logits.argmax(2) == targets[:, 0]).float().mean()
            if t + 1 < H:
                perturbed = logits + gumbels[t]
                y = F.softmax(perturbed / c["tau"], -1)
                hard = F.one_hot(perturbed.argmax(-1), y.shape[-1]).float()
                code = (hard + y - y.detach()) @ self.codebook
        pred = self.mlp("inverse", torch.cat([code0.reshape(B, -1), code1.reshape(B, -1)], 1), len(c["headHidden"]) + 1)
        inv = (mask[:, 0] * -(acts[:, 0] * F.log_softmax(pred, 1)).sum(1)).sum() / mask[:, 0].sum().clamp(min=1)
        loss = f.mean() + c["inverseDynamicsWeight"] * inv
        self.wm_opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([p for g in self.wm_opt.param_groups for p in g["params"]], c["gradClip"])
        self.wm_opt.step()
        valid = mask.sum().clamp(min=1)
        return {"loss": f.mean().item(), "ce": (sums[0] / valid).item(), "rewardMse": (sums[1] / valid).item(), "terminationBce": (sums[2] / valid).item(), "inverse": inv.item(), "accuracy1": acc.item(), "gradNorm": norm.item()}

    def ensemble(self, params, x):
        c = self.c
        e = c["ensemble"]
        layers = len(c["valueHidden"]) + 1
        ws, bs = params[:layers], params[layers:]
        h = F.elu(torch.addmm(bs[0], x, ws[0])).view(x.shape[0], e, -1).transpose(0, 1)
        for i in range(1, layers):
            h = torch.baddbmm(bs[i], h, ws[i])
            if i < layers - 1:
                h = F.elu(h)
        return h  # [E, N, A]

    def value_step(self, b, pair):
        c = self.c
        B, n, S, A, gamma = c["valueBatch"], c["nStep"], c["obsSize"], c["actions"], c["gamma"]
        obs = torch.from_numpy(b["obs"]).float().view(B, n + 1, S)
        mask = torch.from_numpy(b["mask"]).view(B, n)
        live = torch.cumprod(mask, 1)  # steps before the episode's end
        k = live.sum(1).long()
        rewards = torch.from_numpy(b["rewards"]).view(B, n)
        returns = (live * rewards * gamma ** torch.arange(n, dtype=torch.float32)).sum(1)
        terminated = ((live * torch.from_numpy(b["terminated"]).float().view(B, n)).sum(1) > 0).float()
        discount = gamma ** k.float()
        with torch.no_grad():
            codes = self.encode(obs[:, 0]).reshape(B, -1)
            last = self.encode(obs[torch.arange(B), k]).reshape(B, -1)
            best = F.one_hot(self.ensemble(self.critics, last).mean(0).argmax(1), A).float()
            q_next = (self.ensemble(self.targets, last) * best).sum(2)[list(pair)].min(0).values
            y = returns + discount * (1 - terminated) * q_next
        a = F.one_hot(torch.from_numpy(b["actions"]).long().view(B, n)[:, 0], A).float()
        q = (self.ensemble(self.critics, codes) * a).sum(2)
        loss = ((q - y) ** 2).mean(1).sum()
        self.q_opt.zero_grad()
        loss.backward()
        self.q_opt.step()
        with torch.no_grad():
            for p, t in zip(self.critics, self.targets):
                t.mul_(1 - c["polyak"]).add_(p, alpha=c["polyak"])
        return loss.item() / c["ensemble"]

    @torch.no_grad()
    def score(self, z0, actions):
        c = self.c
        n, h = actions.shape
        z = z0.expand(n, -1, -1)
        score = torch.zeros(n)
        alive = torch.ones(n)
        for t in range(h):
            logits, r, d = self.heads(z, F.one_hot(actions[:, t], c["actions"]).float())
            z = F.softmax(logits, -1) @ self.codebook
            score = score + c["gamma"] ** t * alive * r
            alive = alive * (1 - torch.sigmoid(d))
        v = self.ensemble(self.critics, z.reshape(n, -1)).mean(0).max(1).values
        return score + c["gamma"] ** h * alive * v


def arrays(batch):
    import numpy as np
    return {k: np.asarray(v, dtype=np.float32) for k, v in batch.items()}


def main():
    spec = json.load(open(sys.argv[1]))
    port = Port(spec)
    chk = spec["check"]
    c = port.c
    gumbels = [torch.tensor(g, dtype=torch.float32).view(c["batch"], c["latents"], -1) for g in chk["gumbels"]]
    z0 = torch.tensor(spec["score"]["z0"], dtype=torch.float32).view(1, c["latents"], -1)
    seqs = torch.tensor(spec["score"]["actions"]).long().view(spec["score"]["n"], c["planHorizon"])
    diffs = {}
    scores = port.score(z0, seqs)
    diffs["scores"] = (scores - torch.tensor(spec["score"]["scores"])).abs().max().item() / max(1.0, torch.tensor(spec["score"]["scores"]).abs().max().item())
    wm = port.wm_step(arrays(chk["wmBatch"]), gumbels)
    td = port.value_step(arrays(chk["tdBatch"]), chk["pair"])
    for k, v in chk["stats"].items():
        got = td if k == "td" else wm[k]
        diffs[k] = abs(got - v) / max(1.0, abs(v))
    for name, total in chk["sums"].items():
        got = port.w[name].detach().abs().sum().item()
        diffs[f"sum {name}"] = abs(got - total) / max(1.0, abs(total))
    worst = max(diffs, key=diffs.get)
    # Timing: the same update on the exported batches in turn, fresh noise and pairs from torch's RNG.
    torch.manual_seed(0)
    wm_batches = [arrays(b) for b in spec["timing"]["wmBatches"]]
    td_batches = [arrays(b) for b in spec["timing"]["tdBatches"]]
    state = {"i": 0}

    def update():
        i = state["i"] % len(wm_batches)
        state["i"] += 1
        g = [-torch.log(-torch.log(torch.rand(c["batch"], c["latents"], port.codebook.shape[0]).clamp(1e-20, 1 - 1e-7))) for _ in range(c["horizon"] - 1)]
        port.wm_step(wm_batches[i], g)
        e = c["ensemble"]
        first = int(torch.randint(e, (1,)))
        port.value_step(td_batches[i], (first, (first + 1 + int(torch.randint(e - 1, (1,)))) % e))

    repeats = spec["timing"]["repeats"]
    update_ms = median_ms(update, repeats, 3)
    score_ms = median_ms(lambda: port.score(z0, seqs), repeats * 3, 3)
    print(json.dumps({"torch": torch.__version__, "worst_check": worst, "worst_diff": diffs[worst], "checks": diffs, "update_ms": update_ms, "score_ms": score_ms}))


main()
