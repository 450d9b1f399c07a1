"""Scoring: the one judgement of a generated recommendation list (spec: shared/spec/scoring.md).

Parse generated text into raw titles, ground them to catalog items, decide legality, and compute the
metrics (HR, NDCG, TCP, CPA, formatting errors) and the RL rewards of the paper's §2.3. RL, eval,
serve and `ctrlrec score` all call this module; nothing else defines these numbers.

    cat = Catalog.from_frame(load_catalog("ml-1m"))
    res = score(cat, "1. Heat (1995)\\n2. Fargo (1996)", k=5, intent=Intent("I2<=", "Horror", 0.2),
                history_ids=[3, 7], target_id=12, teacher_rank=[12, 40, 5])
    res.metrics, res.item_rewards, res.list_reward, res.spans
"""

from ctrlrec.scoring.catalog import Catalog
from ctrlrec.scoring.intents import KINDS, Intent, check_k
from ctrlrec.scoring.io import load_catalog_file
from ctrlrec.scoring.metrics import METRICS
from ctrlrec.scoring.parse import ParsedLines, normalise, parse_lines
from ctrlrec.scoring.result import BatchScores, ScoreResult
from ctrlrec.scoring.score import Case, score, score_batch

__all__ = [
    "KINDS", "METRICS", "BatchScores", "Case", "Catalog", "Intent", "ParsedLines", "ScoreResult",
    "check_k", "load_catalog_file", "normalise", "parse_lines", "score", "score_batch",
]
