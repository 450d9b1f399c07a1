"""SASRec (Kang & McAuley, 2018): a causal Transformer over a user's item sequence.

Item ids inside the model are shifted by one so that 0 is padding; sequences are left-padded
(right-aligned), so the last position always holds the most recent item. `forward` is the training
path (hidden states at every position, one next-item prediction each); `score_last` is the inference
path (scores of all catalog items after the last position, in dataset item ids 0..n_items-1).
Output scores are dot products with the (tied) item embeddings, as in the paper.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ctrlrec.teacher.config import TeacherConfig


class CausalSelfAttention(nn.Module):
    def __init__(self, hidden: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor, last: bool = False) -> torch.Tensor:
        """Attention over x; with last=True only the last position's output [B, 1, H]."""
        b, n, h = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
        if last:
            q, mask, n = q[:, :, -1:], mask[:, :, -1:], 1
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(y.transpose(1, 2).reshape(b, n, h))


class Block(nn.Module):
    """Attention + feed-forward, each with a residual; LayerNorm before (pre-LN) or after (post)."""

    def __init__(self, cfg: TeacherConfig):
        super().__init__()
        self.prenorm = cfg.prenorm
        self.attn = CausalSelfAttention(cfg.hidden, cfg.heads, cfg.dropout)
        self.ffn = nn.Sequential(
            nn.Linear(cfg.hidden, cfg.ffn_mult * cfg.hidden), nn.GELU(),
            nn.Linear(cfg.ffn_mult * cfg.hidden, cfg.hidden),
        )
        self.norm1 = nn.LayerNorm(cfg.hidden)
        self.norm2 = nn.LayerNorm(cfg.hidden)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, last: bool = False) -> torch.Tensor:
        """[B, L, H] -> [B, L, H]; with last=True only the last position, [B, 1, H] (inference:
        the final block needs keys and values everywhere but a query at the last position only)."""
        res = x[:, -1:] if last else x
        if self.prenorm:
            x = res + self.drop(self.attn(self.norm1(x), mask, last))
            return x + self.drop(self.ffn(self.norm2(x)))
        x = self.norm1(res + self.drop(self.attn(x, mask, last)))
        return self.norm2(x + self.drop(self.ffn(x)))


class SASRec(nn.Module):
    def __init__(self, n_items: int, cfg: TeacherConfig):
        super().__init__()
        self.n_items = n_items
        self.max_len = cfg.max_len
        self.item_emb = nn.Embedding(n_items + 1, cfg.hidden, padding_idx=0)
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.hidden)
        self.emb_norm = nn.LayerNorm(cfg.hidden)
        self.emb_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        # Pre-LN leaves the residual stream unnormalised, so it needs a final norm; post-LN not.
        self.final_norm = nn.LayerNorm(cfg.hidden) if cfg.prenorm else nn.Identity()
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        # Small normal init (BERT/RecBole style); the default uniform init trains slower here.
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
            if isinstance(m, nn.Embedding) and m.padding_idx is not None:
                m.weight.data[m.padding_idx].zero_()

    @staticmethod
    def attention_mask(seq: torch.Tensor) -> torch.Tensor:
        """[B, 1, L, L] bool: causal, not padding; a padding query may see itself (avoids NaN)."""
        n = seq.shape[1]
        causal = torch.ones(n, n, dtype=torch.bool, device=seq.device).tril()
        keys = (seq != 0)[:, None, None, :]
        eye = torch.eye(n, dtype=torch.bool, device=seq.device)
        return (causal & keys) | eye

    def forward(self, seq: torch.Tensor, last: bool = False) -> torch.Tensor:
        """Hidden states [B, L, H] for shifted item ids [B, L] (0 = padding, L <= max_len);
        with last=True only the last position's, [B, 1, H]."""
        n = seq.shape[1]
        pos = torch.arange(self.max_len - n, self.max_len, device=seq.device)
        x = self.emb_drop(self.emb_norm(self.item_emb(seq) + self.pos_emb(pos)))
        mask = self.attention_mask(seq)
        for i, block in enumerate(self.blocks):
            x = block(x, mask, last=last and i == len(self.blocks) - 1)
        return self.final_norm(x)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Scores of every real item (dataset ids 0..n_items-1) for hidden states [..., H]."""
        return h @ self.item_emb.weight[1:].T

    def score_last(self, seq: torch.Tensor) -> torch.Tensor:
        """Inference path: [B, n_items] scores of the next item after each left-padded sequence."""
        return self.logits(self.forward(seq, last=True)[:, -1])
