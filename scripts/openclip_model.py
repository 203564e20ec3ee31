"""open_clip 2.26.1's CLIP (VisionTransformer + text Transformer) in plain torch.

The module layout, state-dict keys and math are open_clip's, so a state dict
saved from it loads in open_clip and the project's importer reads it as it
reads FetalCLIP's. Used by the demo trainer and the benchmark's PyTorch peer.
"""
import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.LayerNorm):
    """open_clip's LayerNorm (eps 1e-5), computing in the input dtype."""

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads, mlp_ratio=4.0):
        super().__init__()
        self.ln_1 = LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = LayerNorm(width)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, hidden)),
            ("gelu", nn.GELU()),  # exact (erf) GELU: FetalCLIP's config has no quick_gelu
            ("c_proj", nn.Linear(hidden, width)),
        ]))

    def forward(self, x, attn_mask=None):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=attn_mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, mlp_ratio=4.0):
        super().__init__()
        self.width = width
        self.layers = layers
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(width, heads, mlp_ratio) for _ in range(layers)])

    def forward(self, x, attn_mask=None):
        for block in self.resblocks:
            x = block(x, attn_mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, image_size, patch_size, width, layers, heads, output_dim, mlp_ratio=4.0):
        super().__init__()
        self.grid = image_size // patch_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        scale = width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(self.grid * self.grid + 1, width))
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, heads, mlp_ratio)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x):
        x = self.conv1(x)
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        x = self.transformer(x)
        x = self.ln_post(x)  # open_clip 2.26.1: ln_post on all tokens, then take the class token
        return x[:, 0] @ self.proj


class CLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        v, t = cfg["vision_cfg"], cfg["text_cfg"]
        embed_dim = cfg["embed_dim"]
        self.visual = VisionTransformer(v["image_size"], v["patch_size"], v["width"], v["layers"],
                                        v["width"] // v.get("head_width", 64), embed_dim, v.get("mlp_ratio", 4.0))
        self.context_length = t["context_length"]
        self.transformer = Transformer(t["width"], t["layers"], t["heads"], t.get("mlp_ratio", 4.0))
        self.token_embedding = nn.Embedding(t["vocab_size"], t["width"])
        self.positional_embedding = nn.Parameter(torch.empty(self.context_length, t["width"]))
        self.ln_final = LayerNorm(t["width"])
        self.text_projection = nn.Parameter(torch.empty(t["width"], embed_dim))
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        mask = torch.empty(self.context_length, self.context_length).fill_(float("-inf")).triu_(1)
        self.register_buffer("attn_mask", mask, persistent=False)
        self.init_parameters()

    def init_parameters(self):
        # open_clip CLIP.init_parameters
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        width, layers = self.transformer.width, self.transformer.layers
        proj_std = (width ** -0.5) * ((2 * layers) ** -0.5)
        attn_std = width ** -0.5
        fc_std = (2 * width) ** -0.5
        for block in self.transformer.resblocks:
            nn.init.normal_(block.attn.in_proj_weight, std=attn_std)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=fc_std)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.text_projection, std=width ** -0.5)

    def encode_image(self, pixels):
        return self.visual(pixels)

    def encode_text(self, ids):
        # Positions after the EOT token cannot reach it through the causal mask, so
        # cropping the batch to its longest text gives open_clip's exact output.
        n = ids.shape[1]
        x = self.token_embedding(ids) + self.positional_embedding[:n]
        x = self.transformer(x, self.attn_mask[:n, :n])
        x = self.ln_final(x)
        x = x[torch.arange(x.shape[0]), ids.argmax(dim=-1)]  # EOT has the largest id
        return x @ self.text_projection
