#!/usr/bin/python3
"""Trains the demo CLIP: open_clip 2.26.1's ViT + text transformer, small, on the phantom.

Input: the folder written by `npx fetalclip demo prepare` (loaders/demo/prepare.ts) (index.json, images.u8,
tokens.i32, eval prompt tokens). Output: models/sources/fetalclip-demo/
{weights.pt, config.json, merges.txt, card.json}. Plain torch (Debian's
python3-torch 1.13, CPU); the module layout, state-dict keys and math are
open_clip 2.26.1's (CLIP with VisionTransformer and text Transformer), so the
project's importer reads the weights as it reads FetalCLIP's.

Run: /usr/bin/python3 scripts/train_demo.py [--minutes 15] [--out DIR]
A killed run resumes from data/cache/demo/train-state.pt.
"""
import argparse
import json
import math
import os
import shutil
import sys
import time
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# OpenAI CLIP normalisation (open_clip's OPENAI_DATASET_MEAN/STD), used by FetalCLIP.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


# ---------------------------------------------------------------- open_clip layout
# The model itself: open_clip 2.26.1's layout, shared with the benchmark's PyTorch peer.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openclip_model import CLIP, LayerNorm, ResidualAttentionBlock, Transformer, VisionTransformer  # noqa: E402,F401


class AuxiliaryHeads(nn.Module):
    """Training-only head shared by both towers (not exported): one linear map of the
    normalised image and text embeddings onto plane and sub-plane logits and a phase
    code of head size. Sharing it pulls an image and the captions true of it onto the
    same directions, which a small CLIP from scratch otherwise finds only after far
    more steps than a CPU budget allows (it sits on the saddle where neither tower
    encodes head size). Head size (log model pixels, standardised) is coded as
    (cos a z, sin a z) pairs so that matching sizes, not larger ones, score highest."""

    FREQUENCIES = (1.0, 2.0)

    def __init__(self, embed_dim, n_planes, n_sub):
        super().__init__()
        self.n_planes, self.n_sub = n_planes, n_sub
        self.head = nn.Linear(embed_dim, n_planes + n_sub + 2 * len(self.FREQUENCIES), bias=False)

    def phase(self, z):
        return torch.cat([torch.stack([torch.cos(a * z), torch.sin(a * z)], -1) for a in self.FREQUENCIES], -1)


def implied_log_hc_px(ga_days, spacing):
    """log of the head circumference in model pixels a caption implies: WHO median HC at its GA / its spacing."""
    return math.log(who_hc(0.5, ga_days / 7)) - math.log(spacing)


# ---------------------------------------------------------------- data
def crop_tokens(ids):
    """Drops the all-zero tail columns of a batch of padded token rows."""
    used = int((ids != 0).any(0).nonzero().max()) + 1
    return ids[:, :used]


class DemoData:
    def __init__(self, folder):
        with open(os.path.join(folder, "index.json")) as f:
            self.index = json.load(f)
        ix = self.index
        self.size = ix["imageSize"]
        self.ctx = ix["contextLength"]
        n, v = len(ix["samples"]), ix["variants"]
        self.images = np.fromfile(os.path.join(folder, ix["files"]["images"]), dtype=np.uint8)
        if self.images.size != n * self.size * self.size:
            sys.exit(f"{folder}/{ix['files']['images']}: expected {n}x{self.size}x{self.size} bytes, got {self.images.size}")
        self.images = self.images.reshape(n, self.size, self.size)
        self.tokens = np.fromfile(os.path.join(folder, ix["files"]["tokens"]), dtype=np.int32)
        if self.tokens.size != n * v * self.ctx:
            sys.exit(f"{folder}/{ix['files']['tokens']}: expected {n}x{v}x{self.ctx} ids, got {self.tokens.size}")
        self.tokens = self.tokens.reshape(n, v, self.ctx)
        self.samples = ix["samples"]
        self.variant_facts = ix["variantFacts"]  # [n][v] {ga, subPlane, spacing}: what each caption states
        self.split = np.array([s["split"] for s in self.samples])
        planes = sorted({s["plane"] for s in self.samples})
        subs = sorted({s["subPlane"] or "" for s in self.samples})
        self.plane_id = np.array([planes.index(s["plane"]) for s in self.samples])
        self.plane_names = planes
        self.aux_plane = self.plane_id.astype(np.int64)
        self.sub_id = np.array([subs.index(s["subPlane"] or "") for s in self.samples])
        self.ga = np.array([s["gaDays"] for s in self.samples], dtype=np.float32)
        self.spacing = np.array([s["promptSpacingMmPerPx"] for s in self.samples], dtype=np.float64)
        self.hc = np.array([s["hcMm"] for s in self.samples], dtype=np.float64)
        self.is_brain = np.array([s["plane"] == "brain" for s in self.samples])
        alt = ix["alternates"]
        self.alt_ga = np.array(alt["ga"], dtype=np.int64)  # [n, v] first row or -1
        self.alt_sub = np.array(alt["subPlane"], dtype=np.int64)
        self.alt_ga_days = alt["gaDays"]
        self.alt_tokens = np.fromfile(os.path.join(folder, ix["files"]["alternates"]), dtype=np.int32).reshape(-1, self.ctx)
        self.n_ga_alt = max((len(d) for row in self.alt_ga_days for d in row), default=0)
        self.facts = np.zeros((n, v, 3), dtype=bool)
        for i in range(n):
            for j in range(v):
                f = self.variant_facts[i][j]
                self.facts[i, j] = (f["ga"], f["subPlane"], f["spacing"])



def normalise(u8):
    """uint8 [B,S,S] grey -> float [B,3,S,S] with CLIP mean/std (grey replicated to RGB)."""
    x = u8.float().div_(255.0).unsqueeze(1).expand(-1, 3, -1, -1)
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(u8, gen, max_shift):
    """Ultrasound-safe augmentation: gain, gamma, small integer shifts, left-right flips.
    No scaling or resampling: the caption states the pixel spacing, and head size in
    pixels must stay true to it."""
    b, s, _ = u8.shape
    x = u8.float() / 255.0
    gain = torch.empty(b, 1, 1).uniform_(0.8, 1.2, generator=gen)
    gamma = torch.exp(torch.empty(b, 1, 1).uniform_(-0.25, 0.25, generator=gen))
    x = (x.clamp(min=1e-6) ** gamma * gain).clamp(0, 1)
    flips = torch.rand(b, generator=gen) < 0.5
    x[flips] = x[flips].flip(-1)
    out = torch.zeros_like(x)
    shifts = torch.randint(-max_shift, max_shift + 1, (b, 2), generator=gen)
    for i in range(b):
        dy, dx = int(shifts[i, 0]), int(shifts[i, 1])
        ys, yd = (slice(0, s - dy), slice(dy, s)) if dy >= 0 else (slice(-dy, s), slice(0, s + dy))
        xs, xd = (slice(0, s - dx), slice(dx, s)) if dx >= 0 else (slice(-dx, s), slice(0, s + dx))
        out[i, yd, xd] = x[i, ys, xs]
    return (out * 255.0).round().to(torch.uint8)


# ---------------------------------------------------------------- loss
def soft_targets(data, idx, var, cfg):
    """Which captions in the batch are true of which images (label-aware CLIP targets).
    Template captions repeat across images, so one-hot targets would call true captions
    negatives. A caption j is true of image i when the plane matches, the sub-plane
    matches if j names one, and what j states about size is consistent with i:
    - brain captions stating GA and pixel spacing: the head of image i, measured at
      caption j's spacing (hc_i * s_j / s_i), is typical for j's GA (WHO median HC);
    - other captions stating GA: GA within a few days; stating spacing: spacing close."""
    plane = torch.from_numpy(data.plane_id[idx])
    sub = torch.from_numpy(data.sub_id[idx])
    ga = torch.from_numpy(data.ga[idx]).double()
    log_sp = torch.from_numpy(np.log(data.spacing[idx])).double()
    log_hc = torch.from_numpy(np.log(data.hc[idx])).double()
    brain = torch.from_numpy(data.is_brain[idx])
    facts = torch.from_numpy(data.facts[idx, var])  # [B, 3] per caption j: ga, subPlane, spacing
    states_ga, states_sub, states_sp = facts[:, 0], facts[:, 1], facts[:, 2]
    t = (plane[:, None] == plane[None, :]).double()
    t = t * torch.where(states_sub[None, :], (sub[:, None] == sub[None, :]).double(), torch.ones(1, dtype=torch.float64))
    log_hc_med_j = torch.from_numpy(np.log([who_hc(0.5, d / 7) for d in data.ga[idx]]))
    # log of (head of i at j's spacing) / (median head at j's GA)
    mismatch = (log_hc[:, None] - log_sp[:, None] + log_sp[None, :]) - log_hc_med_j[None, :]
    k_hc = torch.exp(-0.5 * (mismatch / cfg["log_hc_sigma"]) ** 2)
    k_ga = torch.exp(-0.5 * ((ga[:, None] - ga[None, :]) / cfg["ga_sigma_days"]) ** 2)
    k_sp = torch.exp(-0.5 * ((log_sp[:, None] - log_sp[None, :]) / cfg["log_spacing_sigma"]) ** 2)
    one = torch.ones(1, dtype=torch.float64)
    brain_ga_sp = (brain & states_ga & states_sp)[None, :]
    k = torch.where(brain_ga_sp, k_hc,
                    torch.where(states_ga[None, :], k_ga, one) * torch.where(states_sp[None, :], k_sp, one))
    t = t * k
    return (t + 1e-6 * torch.eye(len(idx), dtype=torch.float64)).float()  # [images, captions]


def clip_loss(img, txt, logit_scale, targets):
    img = F.normalize(img, dim=-1)
    txt = F.normalize(txt, dim=-1)
    logits = logit_scale.exp() * img @ txt.t()
    ti = targets / targets.sum(1, keepdim=True)
    tt = targets.t() / targets.t().sum(1, keepdim=True)
    li = -(ti * F.log_softmax(logits, 1)).sum(1).mean()
    lt = -(tt * F.log_softmax(logits.t(), 1)).sum(1).mean()
    return (li + lt) / 2


def hard_negative_loss(model, data, img_emb, idx, var, cfg, gen):
    """Contrast each image's caption with the same words stating other facts (NegCLIP-style
    hard negatives, Yuksekgonul et al. 2023): other GAs at the image's own spacing (soft
    target: how well each GA's median head fits the image's head) and the other two
    brain sub-planes (target: the true one). These are the distinctions the GA and
    sub-plane prompts ask for, which random in-batch negatives rarely pose."""
    scale = model.logit_scale.exp()
    losses = []
    ga_rows = [b for b in range(len(idx)) if data.alt_ga[idx[b], var[b]] >= 0]
    ga_rows = [ga_rows[k] for k in torch.randperm(len(ga_rows), generator=gen)[:cfg["hn_images"]].tolist()]
    sub_rows = [b for b in range(len(idx)) if data.alt_sub[idx[b], var[b]] >= 0]
    sub_rows = [sub_rows[k] for k in torch.randperm(len(sub_rows), generator=gen)[:cfg["hn_images"]].tolist()]
    ids, groups = [], []
    for b in ga_rows:
        first, k = data.alt_ga[idx[b], var[b]], data.n_ga_alt
        ids.append(data.tokens[idx[b], var[b]][None])
        ids.append(data.alt_tokens[first:first + k])
        groups.append(("ga", b, 1 + k))
    for b in sub_rows:
        first = data.alt_sub[idx[b], var[b]]
        ids.append(data.tokens[idx[b], var[b]][None])
        ids.append(data.alt_tokens[first:first + 2])
        groups.append(("sub", b, 3))
    if not groups:
        return img_emb.sum() * 0, None, None, None
    txt = F.normalize(model.encode_text(crop_tokens(torch.from_numpy(np.concatenate(ids)).long())), dim=-1)
    order = data.index["alternates"]["subPlaneOrder"]
    size_t, sub_t = [], []  # per text row: implied log head size in px (nan: none), named sub-plane (-1: none)
    img = F.normalize(img_emb, dim=-1)
    at = 0
    for kind, b, n in groups:
        logits = scale * txt[at:at + n] @ img[b]
        at += n
        i = idx[b]
        own_sub = order.index(data.samples[i]["subPlane"]) if data.samples[i]["subPlane"] else -1
        if kind == "ga":
            days = [data.ga[i]] + list(data.alt_ga_days[i][var[b]])
            size_t += [implied_log_hc_px(d, data.spacing[i]) for d in days]
            sub_t += [own_sub if data.facts[i, var[b], 1] else -1] * n
            mismatch = torch.tensor([math.log(data.hc[i]) - math.log(who_hc(0.5, d / 7)) for d in days])
            target = torch.exp(-0.5 * (mismatch / cfg["log_hc_sigma"]) ** 2) + 1e-6
            target = target / target.sum()
        else:
            target = torch.tensor([1.0, 0.0, 0.0])
            own_size = implied_log_hc_px(data.ga[i], data.spacing[i]) if data.facts[i, var[b], 0] and data.facts[i, var[b], 2] else float("nan")
            size_t += [own_size] * 3
            sub_t += [own_sub] + [k for k in range(3) if k != own_sub]
        losses.append(-(target * F.log_softmax(logits, 0)).sum())
    return torch.stack(losses).mean(), txt, torch.tensor(size_t), torch.tensor(sub_t)


def aux_targets(data, idx, var):
    """Per batch row: the image's log head size in px and sub-plane (brain only), and what its caption implies/names."""
    order = data.index["alternates"]["subPlaneOrder"]
    img_size, img_sub, txt_size, txt_sub = [], [], [], []
    for i, v in zip(idx, var):
        s = data.samples[i]
        brain = s["plane"] == "brain"
        sub = order.index(s["subPlane"]) if s["subPlane"] else -1
        img_size.append(math.log(data.hc[i] / data.spacing[i]) if brain else float("nan"))
        img_sub.append(sub)
        states_ga, states_sub, states_sp = data.facts[i, v]
        txt_size.append(implied_log_hc_px(data.ga[i], data.spacing[i]) if brain and states_ga and states_sp else float("nan"))
        txt_sub.append(sub if states_sub else -1)
    return torch.tensor(img_size), torch.tensor(img_sub), torch.tensor(txt_size), torch.tensor(txt_sub)


def auxiliary_loss(heads, emb, plane_target, size_target, sub_target, mu, sd):
    """Cross-entropy on plane and sub-plane, MSE on the head-size phase code, where known."""
    out = heads.head(F.normalize(emb, dim=-1))
    p, q = heads.n_planes, heads.n_planes + heads.n_sub
    loss = emb.sum() * 0
    if plane_target is not None:
        loss = loss + F.cross_entropy(out[:, :p], plane_target)
    named = sub_target >= 0
    if named.any():
        loss = loss + F.cross_entropy(out[named, p:q], sub_target[named])
    known = ~torch.isnan(size_target)
    if known.any():
        z = (size_target[known].float() - mu) / sd
        loss = loss + F.mse_loss(out[known, q:], heads.phase(z)) * 2
    return loss


# ---------------------------------------------------------------- evaluation
# WHO fetal growth chart HC quantiles (Kiserud et al. 2017), as FetalCLIP's GA scoring uses them.
WHO_HC = {
    0.025: (1.59317517131532, 0.29459800552433, -0.0073860372566707, 0.0000656951770216148),
    0.5: (2.09924879247164, 0.253373656106037, -0.00605647816678282, 0.0000514256072059917),
    0.975: (2.50074069629423, 0.220067854715719, -0.00493623111462443, 0.0000389066000946519),
}


def who_hc(q, weeks):
    b0, b1, b2, b3 = WHO_HC[q]
    return math.exp(b0 + b1 * weeks + b2 * weeks ** 2 + b3 * weeks ** 3)


def macro_f1(true, pred, classes):
    f1s = []
    for c in sorted(set(true)):
        tp = sum(1 for t, p in zip(true, pred) if t == c and p == c)
        fp = sum(1 for t, p in zip(true, pred) if t != c and p == c)
        fn = sum(1 for t, p in zip(true, pred) if t == c and p != c)
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s))


@torch.no_grad()
def encode_texts(model, ids, batch=256):
    out = []
    for i in range(0, len(ids), batch):
        out.append(model.encode_text(crop_tokens(torch.from_numpy(ids[i:i + batch]).long())))
    return torch.cat(out)


@torch.no_grad()
def encode_images(model, u8, batch=256):
    out = []
    for i in range(0, len(u8), batch):
        out.append(model.encode_image(normalise(torch.from_numpy(u8[i:i + batch]))))
    return torch.cat(out)


def read_eval_ids(folder, data, name):
    meta = data.index["eval"][name]
    ids = np.fromfile(os.path.join(folder, meta["file"]), dtype=np.int32).reshape(-1, data.ctx)
    return ids, meta


def class_embeddings(model, ids, n_classes):
    e = F.normalize(encode_texts(model, ids), dim=-1)
    e = e.reshape(n_classes, -1, e.shape[-1])
    return F.normalize(e.mean(1), dim=-1)


@torch.no_grad()
def evaluate(model, data, folder, split, quick=False):
    """The three demo targets, scored as FetalCLIP's scripts score them (see /work/shared/reference/README.md)."""
    model.eval()
    rows = np.nonzero(data.split == split)[0]
    img = F.normalize(encode_images(model, data.images[rows]), dim=-1)
    result = {}
    ids, meta = read_eval_ids(folder, data, "planes")
    cls = class_embeddings(model, ids, len(meta["classes"]))
    # Scored: images of the five target planes; predictions range over all nine classes.
    scored = [k for k, r in enumerate(rows) if data.samples[r]["promptClass"] in meta["scoredClasses"]]
    pred = (100 * img[scored] @ cls.t()).argmax(1).tolist()
    true = [meta["classes"].index(data.samples[rows[k]]["promptClass"]) for k in scored]
    result["planesMacroF1"] = macro_f1(true, pred, meta["classes"])
    ids, meta = read_eval_ids(folder, data, "subPlanes")
    cls = class_embeddings(model, ids, len(meta["classes"]))
    brain = [k for k, r in enumerate(rows) if data.samples[r].get("subPlaneClass") in meta["classes"]]
    pred = (100 * img[brain] @ cls.t()).argmax(1).tolist()
    true = [meta["classes"].index(data.samples[rows[k]]["subPlaneClass"]) for k in brain]
    result["subPlanesMacroF1"] = macro_f1(true, pred, meta["classes"])
    ids, meta = read_eval_ids(folder, data, "ga")
    ga_days = meta["gaDays"]
    n_t, n_ga = meta["templates"], len(ga_days)
    per_spacing = n_t * n_ga
    scored = [k for k in brain if 100 <= data.samples[rows[k]]["hcMm"] <= 342]
    templates = range(n_t)
    if quick:  # progress check during training: 40 images, the first template
        scored, templates = scored[:40], range(1)
    cache = {}
    valid = []
    for k in scored:
        s = data.samples[rows[k]]
        g = s["gaSpacingIndex"]
        if g not in cache:
            block = ids[g * per_spacing:(g + 1) * per_spacing].reshape(n_t, n_ga, -1)[list(templates)]
            e = F.normalize(encode_texts(model, block.reshape(-1, block.shape[-1])), dim=-1)
            cache[g] = e.reshape(len(templates), n_ga, -1)
        dots = (100 * torch.einsum("d,tgd->tg", img[k], cache[g])).mean(0)
        # Top 15 bins by dot product (ties: lower GA first), re-sorted by GA, the middle one.
        order = sorted(range(n_ga), key=lambda b: (-float(dots[b]), b))[:15]
        pred_days = ga_days[sorted(order)[7]]
        w = pred_days / 7
        valid.append(who_hc(0.025, w) <= s["hcMm"] <= who_hc(0.975, w))
    result["gaValidRate"] = float(np.mean(valid)) if valid else float("nan")
    result["gaScored"] = len(valid)
    model.train()
    return result


# ---------------------------------------------------------------- export
def export(model, cfg, data_folder, out_dir, card):
    os.makedirs(out_dir, exist_ok=True)
    state = OrderedDict((k, v.detach().half().clone()) for k, v in model.state_dict().items())
    torch.save(state, os.path.join(out_dir, "weights.pt"))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    shutil.copyfile(os.path.join(data_folder, "merges.txt"), os.path.join(out_dir, "merges.txt"))
    with open(os.path.join(out_dir, "card.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------- training
def lr_at(step, steps, base, warmup):
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * progress))


def build_config(args, data):
    return {
        "embed_dim": args.embed_dim,
        "vision_cfg": {"image_size": data.size, "layers": args.vision_layers, "width": args.vision_width,
                       "patch_size": args.patch_size},
        "text_cfg": {"context_length": data.ctx, "vocab_size": data.index["vocabSize"], "width": args.text_width,
                     "heads": args.text_width // 64, "layers": args.text_layers},
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/cache/demo")
    p.add_argument("--out", default="models/sources/fetalclip-demo")
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--wd", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=60)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--vision-width", type=int, default=128)
    p.add_argument("--vision-layers", type=int, default=4)
    p.add_argument("--patch-size", type=int, default=14)
    p.add_argument("--text-width", type=int, default=128)
    p.add_argument("--text-layers", type=int, default=3)
    p.add_argument("--embed-dim", type=int, default=128)
    p.add_argument("--brain-share", type=float, default=0.5, help="share of each batch drawn from brain images")
    p.add_argument("--ga-sigma-days", type=float, default=7.0)
    p.add_argument("--log-spacing-sigma", type=float, default=0.1)
    p.add_argument("--log-hc-sigma", type=float, default=0.04)
    p.add_argument("--max-shift", type=int, default=4)
    p.add_argument("--hn-images", type=int, default=16, help="images per step given hard-negative captions (per kind)")
    p.add_argument("--hn-weight", type=float, default=1.0)
    p.add_argument("--aux-weight", type=float, default=1.0, help="weight of the training-only probe losses (0: off)")
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--ckpt-every", type=int, default=100)
    p.add_argument("--eval-split", default="val")
    p.add_argument("--fresh", action="store_true", help="ignore a saved training state")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = DemoData(args.data)
    cfg = build_config(args, data)
    if data.size % args.patch_size:
        sys.exit(f"image size {data.size} is not a multiple of patch size {args.patch_size}")
    model = CLIP(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"config {json.dumps(cfg)}; {n_params / 1e6:.2f}M parameters", flush=True)

    heads = AuxiliaryHeads(cfg["embed_dim"], len(data.plane_names), 3)
    train_rows = np.nonzero((data.split == "train") & data.is_brain)[0]
    size_mu = float(np.mean(np.log(data.hc[train_rows] / data.spacing[train_rows])))
    size_sd = 0.3  # about the spread of the heads the 175 GA prompts imply at one spacing
    named = list(model.named_parameters()) + [("aux." + n, p) for n, p in heads.named_parameters()]
    decay = [p for n, p in named if not (p.ndim < 2 or "ln" in n or "bias" in n or "logit_scale" in n)]
    no_decay = [p for n, p in named if p.ndim < 2 or "ln" in n or "bias" in n or "logit_scale" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)

    train = np.nonzero(data.split == "train")[0]
    is_brain = np.array([data.samples[i]["promptClass"] == "brain" for i in train])
    weights = np.where(is_brain, args.brain_share / max(1, is_brain.sum()), (1 - args.brain_share) / max(1, (~is_brain).sum()))
    weights = torch.from_numpy(weights / weights.sum())
    variants = data.tokens.shape[1]
    loss_cfg = {"ga_sigma_days": args.ga_sigma_days, "log_spacing_sigma": args.log_spacing_sigma, "log_hc_sigma": args.log_hc_sigma,
                "hn_images": args.hn_images}
    print(f"train {len(train)} images ({is_brain.sum()} brain), {variants} captions each", flush=True)

    state_path = os.path.join(args.data, "train-state.pt")
    step, elapsed, cpu_elapsed, history = 0, 0.0, 0.0, []
    if os.path.exists(state_path) and not args.fresh:
        st = torch.load(state_path)
        # --fresh does not change a run, and --steps may be raised to extend a run's cosine schedule.
        same = lambda a: {k: v for k, v in a.items() if k not in ("fresh", "steps")}  # noqa: E731
        if same(st["args"]) != same(vars(args)):
            sys.exit(f"{state_path} was saved with other arguments; rerun with --fresh")
        if args.steps < st["step"]:
            sys.exit(f"{state_path} is at step {st['step']}, past --steps {args.steps}")
        model.load_state_dict(st["model"])
        heads.load_state_dict(st["heads"])
        opt.load_state_dict(st["opt"])
        step, elapsed, cpu_elapsed, history = st["step"], st["elapsed"], st["cpu"], st["history"]
        print(f"resumed at step {step} ({elapsed:.0f} s trained)", flush=True)
        if args.steps != st["args"]["steps"]:
            print(f"schedule extended from {st['args']['steps']} to {args.steps} steps", flush=True)
            history.append({"step": st["step"], "scheduleStepsBefore": st["args"]["steps"], "scheduleSteps": args.steps})

    model.train()
    t0 = time.time() - elapsed
    cpu0 = time.process_time() - cpu_elapsed
    recent = []
    while step < args.steps:
        gen = torch.Generator().manual_seed(args.seed * 1_000_003 + step)  # per-step: resumes reproduce
        pick = torch.multinomial(weights, args.batch, replacement=False, generator=gen).numpy()
        idx = train[pick]
        var = torch.randint(0, variants, (args.batch,), generator=gen).numpy()
        pixels = normalise(augment(torch.from_numpy(data.images[idx]), gen, args.max_shift))
        ids = crop_tokens(torch.from_numpy(data.tokens[idx, var]).long())
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        img_emb = model.encode_image(pixels)
        txt_emb = model.encode_text(ids)
        loss_clip = clip_loss(img_emb, txt_emb, model.logit_scale, soft_targets(data, idx, var, loss_cfg))
        loss_hn, hn_txt, hn_size, hn_sub = hard_negative_loss(model, data, img_emb, idx, var, loss_cfg, gen)
        loss = loss_clip + args.hn_weight * loss_hn
        if args.aux_weight > 0:
            img_size, img_sub, txt_size, txt_sub = aux_targets(data, idx, var)
            planes = torch.from_numpy(data.aux_plane[idx])
            loss_aux = auxiliary_loss(heads, img_emb, planes, img_size, img_sub, size_mu, size_sd)
            loss_aux = loss_aux + auxiliary_loss(heads, txt_emb, planes, txt_size, txt_sub, size_mu, size_sd)
            if hn_txt is not None:
                loss_aux = loss_aux + auxiliary_loss(heads, hn_txt, None, hn_size, hn_sub, size_mu, size_sd)
            loss = loss + args.aux_weight * loss_aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))  # open_clip's clamp
        step += 1
        recent.append((loss_clip.item(), loss_hn.item(), loss_aux.item() if args.aux_weight > 0 else 0.0))
        if step % 20 == 0 or step == args.steps:
            el, cpu = time.time() - t0, time.process_time() - cpu0
            lc, lh, la = np.mean(recent, axis=0)
            print(f"step {step}/{args.steps} loss clip {lc:.4f} hard-neg {lh:.4f} aux {la:.4f} scale {model.logit_scale.exp().item():.1f} "
                  f"{el:.0f} s ({el / step:.2f} s/step, {cpu / step:.2f} cpu-s/step)", flush=True)
            history.append({"step": step, "loss": float(lc), "hardNegativeLoss": float(lh), "auxiliaryLoss": float(la),
                            "seconds": round(el, 1)})
            recent = []
        if step % args.eval_every == 0 and step < args.steps:
            t_eval, c_eval = time.time(), time.process_time()
            r = evaluate(model, data, args.data, args.eval_split, quick=True)
            t0 += time.time() - t_eval  # progress checks do not count as training time
            cpu0 += time.process_time() - c_eval
            print(f"eval[{args.eval_split}] step {step}: {json.dumps(r)}", flush=True)
            history.append({"step": step, "eval": r})
        if step % args.ckpt_every == 0 and step < args.steps:
            torch.save({"model": model.state_dict(), "heads": heads.state_dict(), "opt": opt.state_dict(), "step": step,
                        "elapsed": time.time() - t0, "cpu": time.process_time() - cpu0, "history": history, "args": vars(args)}, state_path + ".tmp")
            os.replace(state_path + ".tmp", state_path)
    wall, cpu_total = time.time() - t0, time.process_time() - cpu0

    # Score what is shipped: float16 weights, read back.
    shipped = OrderedDict((k, v.detach().half().float()) for k, v in model.state_dict().items())
    model.load_state_dict(shipped)
    final = {split: evaluate(model, data, args.data, split) for split in ("val", "test")}
    print(f"final (float16 weights): {json.dumps(final)}", flush=True)
    card = {
        "name": "FetalCLIP demo (phantom)",
        "description": "A small open_clip-layout CLIP trained from scratch on the project's procedural "
                       "ultrasound phantom; a stand-in so a fresh clone shows working analyses. Not a medical model.",
        "training": {
            "steps": step, "batch": args.batch, "epochs": round(step * args.batch / len(train), 2),
            "seed": args.seed, "optimizer": f"AdamW lr {args.lr} wd {args.wd} betas (0.9, 0.98), cosine, warmup {args.warmup}",
            "loss": {
                "clip": "CLIP contrastive (learnable logit_scale) with label-aware soft targets: a caption counts as "
                        "true of an image when plane and stated sub-plane match and its stated size facts fit the image "
                        f"(brain GA + spacing: the head measured at the caption's spacing is the WHO median HC at its GA, "
                        f"log sigma {args.log_hc_sigma}; otherwise GA sigma {args.ga_sigma_days} d, log spacing sigma "
                        f"{args.log_spacing_sigma})",
                "hardNegatives": f"weight {args.hn_weight}: {args.hn_images} images per step contrast their caption with "
                                 "the same words at other GAs (soft target by head fit) and naming the other sub-planes",
                "auxiliary": f"weight {args.aux_weight}: a training-only linear head shared by both towers (not exported) "
                             "maps normalised embeddings to plane and sub-plane logits and a (cos, sin) phase code of "
                             "head size in model pixels (image: true; caption: WHO median HC at its GA / its spacing)",
            },
            "brainShare": args.brain_share, "augment": f"gain 0.8-1.2, gamma exp(+-0.25), left-right flip, shift +-{args.max_shift} px; no scaling",
            "wallSeconds": round(wall, 1), "cpuSeconds": round(cpu_total, 1), "threads": args.threads,
            "finalLoss": history[-1]["loss"] if history and "loss" in history[-1] else None,
            "lossHistory": [h for h in history if "loss" in h][-10:],
        },
        "data": data.index["dataCard"],
        "evaluation": final,
        "torch": torch.__version__,
        "parameters": n_params,
    }
    export(model, cfg, args.data, args.out, card)
    print(f"wrote {args.out} ({os.path.getsize(os.path.join(args.out, 'weights.pt')) / 1e6:.2f} MB weights)", flush=True)


if __name__ == "__main__":
    main()
