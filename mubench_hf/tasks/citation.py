"""How to cite MU-Bench, the benchmark whose tasks, splits and metrics mubench-hf follows (dataset and
model cards quote it)."""

MUBENCH_CITATION = """@article{cheng2024mubench,
  title   = {MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning},
  author  = {Cheng, Jiali and Amiri, Hadi},
  journal = {arXiv preprint arXiv:2406.14796},
  year    = {2024}
}"""
