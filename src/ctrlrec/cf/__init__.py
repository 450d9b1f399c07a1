"""Collaborative-filtering models (BiasMF, NCF, LightGCN, SGL, SimGCL) over one trainer, with a
plug-in for fixed side embeddings (text, LLM profiles) and cold-start splits. See docs/cf.md."""
